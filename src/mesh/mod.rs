//! Pure mesh domain (samples, inventory, graph, health); must not import tokio, ratatui or any other crate module.

pub mod access_log;
pub mod boxes;
pub mod build;
pub mod graph;
pub mod hashing;
pub mod health;
pub mod inventory;
pub mod label_value;
pub mod labels;
pub mod operations;
pub mod rules;
pub mod sanitize;
pub mod traffic;

pub use build::{build_graph, GraphOptions, TcpRate};
pub use graph::{AppBox, GraphType, MeshGraph, MeshNode, NodeKey, NodeKind, ServiceEdge};
pub use health::{Health, HealthThresholds};
pub use inventory::{
    EndpointInfo, EndpointSliceInfo, Inventory, InventoryIndex, Labels, NamespaceInfo,
    NamespaceRef, PodInfo, ServiceInfo, ServicePort, WorkloadInfo,
};
pub use label_value::{LabelInterner, LabelValue};
pub use labels::{IstioLabel, IstioLabels, IstioMetric, LabelError};
pub use traffic::{
    ErrorSplit, LatencyQuantiles, PeerLabels, Protocol, Quantile, Reporter, SampleKind,
    SampleLabels, SecurityPolicy, TrafficSample,
};
