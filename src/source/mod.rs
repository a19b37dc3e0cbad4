//! Data in: mesh snapshots from the demo mesh, or Prometheus joined with the Kubernetes inventory. Knows `mesh`, never `app` or `ui`.

pub mod demo;
pub mod kube;
pub mod logs;
pub mod operations;
pub mod prometheus;
pub mod write;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::mesh::{Inventory, TrafficSample};

/// Everything a source knows at one moment, owned, so the UI never shares state with it.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshSnapshot {
    /// When the data was taken, in seconds since the Unix epoch (simulated in the demo).
    pub taken_at_unix_s: f64,
    /// The window the rates are computed over.
    pub window: Duration,
    pub samples: Vec<TrafficSample>,
    pub inventory: Inventory,
    /// When the inventory stopped being kept up to date (its source failing), in Unix
    /// seconds; `None` while it is current, or when there is no inventory source.
    pub inventory_stale_since_unix_s: Option<f64>,
}

/// How a source is doing; shown in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceHealth {
    Ok,
    /// The source failed; the last good snapshot stays on screen with its age.
    Failing(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    Snapshot(Box<MeshSnapshot>),
    Status(SourceHealth),
}

/// Requests from the app to a running source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceCommand {
    RefreshNow,
    SetPaused(bool),
}

/// What the status bar says about a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDescription {
    /// Short label, e.g. `DEMO` or a Prometheus URL.
    pub label: String,
    pub is_demo: bool,
    pub window: Duration,
    pub refresh_interval: Duration,
}

pub type SourceTask = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The inventory as the Kubernetes watcher last saw it, and how that watcher is doing.
/// The watcher publishes it; the metrics source joins it to every snapshot it sends.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InventoryState {
    pub inventory: Inventory,
    pub health: InventoryHealth,
    /// While the watcher fails: since when (Unix seconds), that is, when the inventory was
    /// last known to match the cluster. `None` while it is kept up to date.
    pub stale_since_unix_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InventoryHealth {
    /// No Kubernetes access was asked for: metrics-only mode.
    #[default]
    NotUsed,
    /// Still listing; nothing complete yet.
    Syncing,
    Ok,
    /// The API server failed; the inventory is the last one seen.
    Failing(String),
}

/// Where a metrics source reads the latest inventory from.
pub type InventoryFeed = tokio::sync::watch::Receiver<InventoryState>;

/// A running supplier of snapshots. `run` sends events until the receiver is gone.
pub trait MeshSource: Send {
    fn describe(&self) -> SourceDescription;
    fn run(
        self: Box<Self>,
        events: mpsc::Sender<SourceEvent>,
        commands: mpsc::Receiver<SourceCommand>,
    ) -> SourceTask;
}
