//! `destinationrule.SubsetSelectPodAnalyzer`: a DestinationRule's host must be a known
//! service (IST0174), and each subset's labels (with a ServiceEntry's workload selector)
//! must select some pod (IST0173). Pods carry the topology labels of their node, as the
//! endpoints Istio builds from them do, so subsets on region or zone are matched too.

use std::collections::{BTreeMap, HashMap};

use crate::mesh::rules::analyze::hosts::{export_to, ServiceRegistry};
use crate::mesh::rules::analyze::message::{text, Message, MessageKind};
use crate::mesh::rules::analyze::selector::selects;
use crate::mesh::rules::analyze::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, items, str_of, string_map, KubeObject};

const REGION: &str = "topology.kubernetes.io/region";
const ZONE: &str = "topology.kubernetes.io/zone";
const SUBZONE: &str = "topology.istio.io/subzone";
const HOSTNAME: &str = "kubernetes.io/hostname";

struct Subset<'o> {
    rule: &'o KubeObject,
    name: String,
    selector: BTreeMap<String, String>,
    matched: bool,
}

pub fn analyze(snapshot: &Snapshot, out: &mut Vec<Message>) {
    let registry = ServiceRegistry::new(snapshot);
    let node_labels: HashMap<&str, BTreeMap<String, String>> = snapshot
        .of_kind(Kind::Node)
        .map(|n| (n.name(), n.labels()))
        .collect();
    let mut subsets: Vec<Subset<'_>> = Vec::new();
    for rule in snapshot.of_kind(Kind::DestinationRule) {
        let spec = rule.spec();
        let host = str_of(field(spec, "host"));
        let Some(service) = registry.lookup(rule.namespace(), &export_to(spec), host) else {
            out.push(Message::about(
                rule,
                None,
                MessageKind::UnknownDestinationRuleHost,
                text::unknown_destination_rule_host(host),
            ));
            continue;
        };
        // Subsets are kept by name: a later one of the same name replaces the earlier.
        let mut by_name: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for subset in items(field(spec, "subsets")) {
            let mut selector = service.workload_labels.clone();
            selector.extend(string_map(field(subset, "labels")));
            by_name.insert(str_of(field(subset, "name")).to_owned(), selector);
        }
        subsets.extend(by_name.into_iter().map(|(name, selector)| Subset {
            rule,
            name,
            selector,
            matched: false,
        }));
    }
    for pod in snapshot.of_kind(Kind::Pod) {
        let labels = endpoint_labels(pod, &node_labels);
        for subset in subsets.iter_mut().filter(|s| !s.matched) {
            subset.matched = selects(&subset.selector, &labels);
        }
    }
    for subset in subsets.into_iter().filter(|s| !s.matched) {
        out.push(Message::about(
            subset.rule,
            None,
            MessageKind::DestinationRuleSubsetNotSelectPods,
            text::subset_selects_no_pods(&subset.name),
        ));
    }
}

/// The pod's labels plus what Istio adds to its endpoints: the node's region, zone and
/// subzone when set (a subzone only under a zone), and the node's name.
fn endpoint_labels(
    pod: &KubeObject,
    nodes: &HashMap<&str, BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let mut labels = pod.labels();
    let node_name = str_of(field(pod.spec(), "nodeName"));
    if let Some(node) = nodes.get(node_name) {
        let get = |key: &str| node.get(key).cloned().unwrap_or_default();
        let (region, zone, subzone) = (get(REGION), get(ZONE), get(SUBZONE));
        if !region.is_empty() {
            labels.insert(REGION.into(), region);
        }
        if !zone.is_empty() {
            if !subzone.is_empty() {
                labels.insert(SUBZONE.into(), subzone);
            }
            labels.insert(ZONE.into(), zone);
        }
    }
    if !node_name.is_empty() {
        labels.insert(HOSTNAME.into(), node_name.to_owned());
    }
    labels
}
