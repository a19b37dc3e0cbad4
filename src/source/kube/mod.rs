//! The Kubernetes inventory source: kube-rs reflectors over namespaces, services, workloads, pods and Istio configuration of one or several clusters, published as an `InventoryState`; knows `mesh` and `source`, never `app` or `ui`.

mod assemble;
mod client;
mod clusters;
mod istio;
mod logs;
mod objects;
mod snapshot;
mod status;
mod watch;
mod write;

pub use client::client_for;
pub use clusters::{merged_state, watch_clusters, ClusterFeeds};
pub use logs::{KubeLogFollower, LogSettings};
pub use snapshot::{list_for_analysis, SnapshotError};
pub use watch::{watch_inventory, InventorySettings};
pub use write::KubeWriter;

/// What can go wrong before the watchers run; later failures show as `InventoryHealth`.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("reading the kubeconfig (context {context}): {source}")]
    Kubeconfig {
        context: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("finding Kubernetes credentials (KUBECONFIG, ~/.kube/config or in-cluster): {0}")]
    NoConfig(#[source] kube::config::InferConfigError),
    #[error("setting up the Kubernetes client: {0}")]
    Client(#[source] kube::Error),
}
