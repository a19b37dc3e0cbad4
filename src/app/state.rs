//! Everything the screen shows, owned by the app; sources send copies, never share it.

use std::time::Duration;

use super::access_log::LogViewer;
use super::edge_table::EdgeTableState;
use super::forms::RuleEditing;
use super::history::TrafficHistory;
use super::interfaces::InterfacesState;
use super::topology::{TopologyView, VisibleFilter};
use super::views::{View, ViewStack};
use crate::layout::{Rect, Viewport};
use crate::mesh::{GraphOptions, MeshGraph, NodeKey};
use crate::source::{MeshSnapshot, SourceDescription, SourceHealth};

/// Rows above and below the graph: the header and the status bar.
pub const HEADER_ROWS: u16 = 1;
pub const FOOTER_ROWS: u16 = 1;
/// The smallest terminal meshtui draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// Focus shows this many hops unless widened or narrowed.
pub const DEFAULT_FOCUS_HOPS: usize = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help { scroll: u16 },
}

/// A find in progress: typed text and the selection to return to on Esc.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FindState {
    pub query: String,
    pub before: Option<NodeKey>,
}

#[derive(Debug, Clone)]
pub struct State {
    pub source: SourceDescription,
    pub source_health: SourceHealth,
    /// When the data on screen was taken (Unix seconds); `None` until the first snapshot.
    pub data_taken_at: Option<f64>,
    pub window: Duration,
    /// The clock the status bar measures age against (frozen in tests).
    pub now_unix_s: f64,
    pub paused: bool,
    pub graph_options: GraphOptions,
    /// The latest snapshot, kept so display options can rebuild the graph without a refresh.
    pub snapshot: Option<Box<MeshSnapshot>>,
    pub graph: MeshGraph,
    pub view: TopologyView,
    /// All namespaces seen in the data, sorted; the filter cycles through them.
    pub namespaces: Vec<String>,
    /// The topology (or edge table) at the bottom, the detail views opened above it.
    pub views: ViewStack,
    /// Recent traffic per node and edge, for the sparklines.
    pub history: TrafficHistory,
    /// The inventory holds several clusters: names alone do not say which object is meant.
    pub several_clusters: bool,
    pub overlay: Option<Overlay>,
    pub find: Option<FindState>,
    pub selection: Option<NodeKey>,
    pub namespace_filter: Option<String>,
    /// Hops shown around the selection when focus is on.
    pub focus_hops: Option<usize>,
    pub table: EdgeTableState,
    pub viewport: Viewport,
    pub screen_width: u16,
    pub screen_height: u16,
    /// One line of news for the status bar, e.g. a failed refresh.
    pub notice: Option<String>,
    /// Namespaces the cluster refused to show (RBAC), sanitized.
    pub inaccessible_namespaces: Vec<String>,
    /// Lines in the help overlay (it is built from the keymap), so scrolling stops at its end.
    pub help_lines: u16,
    /// Rule forms, their drafts, writes under way and the undo stack.
    pub rules: RuleEditing,
    /// The interfaces (operations) view of a workload, while it is open.
    pub interfaces: Option<InterfacesState>,
    /// The metric label operations are read from (`--operation-label`).
    pub operation_label: String,
    /// The access log of a pod, when one is open.
    pub logs: LogViewer,
}

impl State {
    pub fn new(source: SourceDescription, graph_options: GraphOptions, now_unix_s: f64) -> Self {
        State {
            window: source.window,
            source,
            source_health: SourceHealth::Ok,
            data_taken_at: None,
            now_unix_s,
            paused: false,
            graph_options,
            snapshot: None,
            graph: MeshGraph::default(),
            view: TopologyView::default(),
            namespaces: Vec::new(),
            views: ViewStack::default(),
            history: TrafficHistory::default(),
            several_clusters: false,
            overlay: None,
            find: None,
            selection: None,
            namespace_filter: None,
            focus_hops: None,
            table: EdgeTableState::default(),
            viewport: Viewport {
                x: 0,
                y: 0,
                width: 0,
                height: 0,
            },
            screen_width: 0,
            screen_height: 0,
            notice: None,
            inaccessible_namespaces: Vec::new(),
            help_lines: 0,
            rules: RuleEditing::default(),
            interfaces: None,
            operation_label: crate::mesh::operations::DEFAULT_OPERATION_LABEL.into(),
            logs: LogViewer::default(),
        }
    }

    /// The view on screen.
    pub fn current_view(&self) -> &View {
        self.views.current()
    }

    /// The source is failing: what is on screen is the last data it sent.
    pub fn is_stale(&self) -> bool {
        matches!(self.source_health, SourceHealth::Failing(_))
    }

    /// Rows of help text visible at once: the body less the overlay's margin and border.
    pub fn help_rows_visible(&self) -> u16 {
        self.screen_height
            .saturating_sub(HEADER_ROWS + FOOTER_ROWS + 4)
    }

    /// The furthest the help can scroll while its last line stays on screen.
    pub fn help_scroll_limit(&self) -> u16 {
        self.help_lines.saturating_sub(self.help_rows_visible())
    }

    pub fn too_small(&self) -> bool {
        self.screen_width < MIN_WIDTH || self.screen_height < MIN_HEIGHT
    }

    /// Seconds since the data on screen was taken.
    pub fn data_age_s(&self) -> Option<f64> {
        self.data_taken_at.map(|t| (self.now_unix_s - t).max(0.0))
    }

    /// Seconds since the inventory on screen was last known to match the cluster, while
    /// the source says it is failing; `None` while the inventory is kept up to date.
    pub fn inventory_age_s(&self) -> Option<f64> {
        if !self.is_stale() {
            return None;
        }
        let since = self.snapshot.as_ref()?.inventory_stale_since_unix_s?;
        Some((self.now_unix_s - since).max(0.0))
    }

    pub fn visible_filter(&self) -> VisibleFilter {
        VisibleFilter {
            namespace: self.namespace_filter.clone(),
            focus: match (&self.selection, self.focus_hops) {
                (Some(key), Some(hops)) => Some((key.clone(), hops)),
                _ => None,
            },
        }
    }

    /// Index of the selected node in the layout.
    pub fn selected_index(&self) -> Option<usize> {
        self.view.index_of(&self.graph, self.selection.as_ref()?)
    }

    pub fn node_rect(&self, index: usize) -> Option<Rect> {
        let b = self.view.layout.nodes.get(index)?;
        Some(Rect {
            x: b.x,
            y: b.y,
            width: u32::from(b.width),
            height: u32::from(b.height),
        })
    }

    /// Nodes whose label contains the find query (case-insensitive), in reading order.
    pub fn find_matches(&self) -> Vec<usize> {
        let Some(find) = &self.find else {
            return Vec::new();
        };
        let query = find.query.to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        self.view
            .reading_order()
            .into_iter()
            .filter(|i| {
                self.view
                    .nodes
                    .get(*i)
                    .and_then(|n| self.graph.node(*n))
                    .is_some_and(|node| {
                        super::topology::node_label(node)
                            .to_lowercase()
                            .contains(&query)
                    })
            })
            .collect()
    }
}
