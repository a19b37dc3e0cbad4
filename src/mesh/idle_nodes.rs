//! Kiali's idle nodes: what the inventory knows in the namespaces asked for but no traffic
//! named in the window.

use crate::mesh::graph::GraphType;
use crate::mesh::inventory::Inventory;
use crate::mesh::traffic::PeerLabels;

use super::Builder;

impl Builder<'_> {
    /// Adds a node, marked idle, for each workload (not in the service graph) and each
    /// Kubernetes service (in the service graph, or with service nodes) of the inventory whose
    /// node the traffic did not make. Each gets the identity traffic would have given it, so
    /// that a workload of an app with traffic adds nothing to the app graph.
    pub(super) fn add_idle_nodes(&mut self, inventory: &Inventory, namespaces: &[String]) {
        let asked =
            |namespace: &str| namespaces.is_empty() || namespaces.iter().any(|n| n == namespace);
        if self.graph_type != GraphType::Service {
            for workload in inventory.workloads.iter().filter(|w| asked(&w.namespace)) {
                let peer = PeerLabels {
                    cluster: workload.cluster.clone(),
                    namespace: workload.namespace.clone(),
                    workload: workload.name.clone(),
                    app: workload.app.clone().unwrap_or_default(),
                    version: workload.version.clone().unwrap_or_default(),
                };
                let before = self.graph.node_count();
                let index = self.make_workload_side_node(&peer);
                self.mark_idle_if_new(index, before);
            }
        }
        if self.inject_service_nodes {
            // ServiceEntry hosts are outside the mesh: Kiali lists Kubernetes services only.
            for service in inventory
                .services
                .iter()
                .filter(|s| !s.external && asked(&s.namespace))
            {
                let before = self.graph.node_count();
                let identity = (
                    service.host.as_str(),
                    service.name.as_str(),
                    service.namespace.as_str(),
                    service.cluster.as_str(),
                    true,
                );
                if let Some(index) = self.make_service_node(identity) {
                    self.mark_idle_if_new(index, before);
                }
            }
        }
    }

    fn mark_idle_if_new(&mut self, index: petgraph::stable_graph::NodeIndex, before: usize) {
        if self.graph.node_count() > before {
            if let Some(node) = self.graph.graph.node_weight_mut(index) {
                node.idle = true;
            }
        }
    }
}
