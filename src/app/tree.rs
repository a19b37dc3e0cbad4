//! The tree navigator: cluster → namespace → app → workload → pod, each with a health mark,
//! built from the inventory and the graph on screen. Choosing an item focuses it in the graph.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::mesh::inventory::{PodInfo, PodPhase};
use crate::mesh::sanitize::sanitize;
use crate::mesh::{Health, Inventory, MeshGraph, NodeKey, NodeKind};

/// Where an entry sits in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeLevel {
    Cluster,
    Namespace,
    App,
    Workload,
    Pod,
}

/// What choosing an entry shows in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeTarget {
    Cluster,
    Namespace {
        namespace: String,
    },
    App {
        cluster: String,
        namespace: String,
        app: String,
    },
    Workload {
        cluster: String,
        namespace: String,
        workload: String,
        /// Its app, so that the app graph can show the workload's app node.
        app: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TreeEntry {
    /// Unique among its siblings; a path of these names the entry.
    pub id: String,
    pub level: TreeLevel,
    /// Sanitized: names come from the cluster.
    pub label: String,
    /// A short note after the label, e.g. `2/3 ready` or `Pending`.
    pub detail: String,
    pub health: Health,
    pub target: TreeTarget,
    pub children: Vec<TreeEntry>,
}

/// One line of the tree as drawn: the entry's path and its depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub path: Vec<String>,
    pub depth: usize,
}

/// The navigator's state: the tree, what is open, what is selected, the `/` filter and
/// the first row on screen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeNavigator {
    pub roots: Vec<TreeEntry>,
    pub open: BTreeSet<Vec<String>>,
    pub selected: Vec<String>,
    /// Entries whose label contains this (case-insensitive) are shown with their ancestors.
    pub filter: String,
    pub offset: usize,
}

impl TreeNavigator {
    /// A navigator over `inventory` and `graph`, opened down to the namespaces, with the
    /// entry of `focus` (the graph's selection) selected and revealed when there is one.
    pub fn new(inventory: &Inventory, graph: &MeshGraph, focus: Option<&NodeKey>) -> Self {
        let roots = build_tree(inventory, graph);
        let mut navigator = TreeNavigator {
            open: roots.iter().map(|r| vec![r.id.clone()]).collect(),
            roots,
            ..TreeNavigator::default()
        };
        let focused = focus
            .and_then(|key| graph.node_index(key))
            .and_then(|index| graph.node(index))
            .and_then(|node| navigator.path_of_node(node));
        match focused {
            Some(path) => navigator.reveal(path),
            None => {
                navigator.selected = navigator
                    .rows()
                    .first()
                    .map(|r| r.path.clone())
                    .unwrap_or_default()
            }
        }
        navigator
    }

    /// Replaces the tree with a newer one, keeping what is open and selected where the
    /// entries still exist.
    pub fn refresh(&mut self, inventory: &Inventory, graph: &MeshGraph) {
        self.roots = build_tree(inventory, graph);
        if self.entry(&self.selected).is_none() {
            self.selected = self
                .rows()
                .first()
                .map(|r| r.path.clone())
                .unwrap_or_default();
        }
    }

    pub fn entry(&self, path: &[String]) -> Option<&TreeEntry> {
        let (first, rest) = path.split_first()?;
        let mut entry = self.roots.iter().find(|e| &e.id == first)?;
        for id in rest {
            entry = entry.children.iter().find(|e| &e.id == id)?;
        }
        Some(entry)
    }

    /// The lines shown: open entries' children, and with a filter only matches and
    /// their ancestors (opened, so every match is visible).
    pub fn rows(&self) -> Vec<TreeRow> {
        let filter = self.filter.to_lowercase();
        let mut rows = Vec::new();
        let mut path = Vec::new();
        for root in &self.roots {
            self.collect_rows(root, &filter, &mut path, &mut rows);
        }
        rows
    }

    fn collect_rows(
        &self,
        entry: &TreeEntry,
        filter: &str,
        path: &mut Vec<String>,
        rows: &mut Vec<TreeRow>,
    ) {
        if !filter.is_empty() && !subtree_matches(entry, filter) {
            return;
        }
        path.push(entry.id.clone());
        rows.push(TreeRow {
            path: path.clone(),
            depth: path.len() - 1,
        });
        if self.shows_children(entry, path, filter) {
            for child in &entry.children {
                self.collect_rows(child, filter, path, rows);
            }
        }
        path.pop();
    }

    /// Whether an entry's children are shown: it is open, or a filter match lies below it
    /// (above a match everything opens; below one, entries stay as the user left them).
    fn shows_children(&self, entry: &TreeEntry, path: &[String], filter: &str) -> bool {
        self.open.contains(path)
            || (!filter.is_empty()
                && !entry.label.to_lowercase().contains(filter)
                && entry.children.iter().any(|c| subtree_matches(c, filter)))
    }

    pub fn is_expanded(&self, path: &[String]) -> bool {
        self.entry(path)
            .is_some_and(|e| self.shows_children(e, path, &self.filter.to_lowercase()))
    }

    /// Moves the selection `delta` rows (negative: up), stopping at the ends.
    pub fn move_selection(&mut self, delta: isize, visible_rows: usize) {
        let rows = self.rows();
        if rows.is_empty() {
            return;
        }
        let current = rows.iter().position(|r| r.path == self.selected);
        let next = match current {
            Some(i) => i.saturating_add_signed(delta).min(rows.len() - 1),
            None => 0,
        };
        if let Some(row) = rows.get(next) {
            self.selected = row.path.clone();
        }
        self.keep_selection_visible(visible_rows);
    }

    /// Right: open the selected entry, or step into its first child when already open.
    pub fn expand(&mut self, visible_rows: usize) {
        let Some(entry) = self.entry(&self.selected) else {
            return;
        };
        let first_child = entry.children.first().map(|c| c.id.clone());
        if first_child.is_none() {
            return;
        }
        if self.is_expanded(&self.selected) {
            if let Some(child) = first_child {
                self.selected.push(child);
            }
        } else {
            self.open.insert(self.selected.clone());
        }
        self.keep_selection_visible(visible_rows);
    }

    /// Left: close the selected entry, or step out to its parent when already closed.
    pub fn collapse(&mut self, visible_rows: usize) {
        if self.open.remove(&self.selected) {
            return;
        }
        if self.selected.len() > 1 {
            self.selected.pop();
        }
        self.keep_selection_visible(visible_rows);
    }

    /// Opens every ancestor of `path` and selects it.
    fn reveal(&mut self, path: Vec<String>) {
        for depth in 1..path.len() {
            self.open.insert(path[..depth].to_vec());
        }
        self.selected = path;
    }

    /// Keeps the selected row between `offset` and `offset + visible_rows`.
    pub fn keep_selection_visible(&mut self, visible_rows: usize) {
        let rows = self.rows();
        let Some(index) = rows.iter().position(|r| r.path == self.selected) else {
            self.offset = 0;
            return;
        };
        let visible_rows = visible_rows.max(1);
        if index < self.offset {
            self.offset = index;
        } else if index >= self.offset + visible_rows {
            self.offset = index + 1 - visible_rows;
        }
        self.offset = self.offset.min(rows.len().saturating_sub(visible_rows));
    }

    pub fn selected_target(&self) -> Option<&TreeTarget> {
        self.entry(&self.selected).map(|e| &e.target)
    }

    /// The tree path of the entry standing for a graph node, when it has one.
    fn path_of_node(&self, node: &crate::mesh::MeshNode) -> Option<Vec<String>> {
        let namespace = sanitize(&node.namespace);
        let wanted = node
            .workload
            .as_ref()
            .map(|w| (TreeLevel::Workload, sanitize(w)))
            .or_else(|| node.app.as_ref().map(|a| (TreeLevel::App, sanitize(a))))?;
        let mut found = None;
        for root in &self.roots {
            let Some(ns) = root.children.iter().find(|n| n.label == namespace) else {
                continue;
            };
            let base = vec![root.id.clone(), ns.id.clone()];
            if let Some(path) = find_below(ns, &wanted, base) {
                found = Some(path);
                if root.label == sanitize(&node.cluster) {
                    break;
                }
            }
        }
        found
    }
}

fn find_below(
    entry: &TreeEntry,
    wanted: &(TreeLevel, String),
    path: Vec<String>,
) -> Option<Vec<String>> {
    for child in &entry.children {
        let mut child_path = path.clone();
        child_path.push(child.id.clone());
        if child.level == wanted.0 && child.label == wanted.1 {
            return Some(child_path);
        }
        if matches!(child.level, TreeLevel::App) {
            if let Some(found) = find_below(child, wanted, child_path) {
                return Some(found);
            }
        }
    }
    None
}

/// Whether the entry or one below it contains `filter` (already lower case).
pub fn subtree_matches(entry: &TreeEntry, filter: &str) -> bool {
    entry.label.to_lowercase().contains(filter)
        || entry.children.iter().any(|c| subtree_matches(c, filter))
}

/// The graph node a tree target stands for in the graph on screen: the workload's node in
/// workload and versioned-app graphs, its app's node in the app graph.
pub fn graph_node_for(
    graph: &MeshGraph,
    target: &TreeTarget,
    sole_cluster: bool,
) -> Option<NodeKey> {
    let same_cluster = |node_cluster: &str, cluster: &str| sole_cluster || node_cluster == cluster;
    let mut best: Option<(u8, NodeKey)> = None;
    for (_, node) in graph.nodes() {
        let rank = match target {
            TreeTarget::Workload {
                cluster,
                namespace,
                workload,
                app,
            } if same_cluster(&node.cluster, cluster) && &node.namespace == namespace => {
                if node.workload.as_deref() == Some(workload) {
                    Some(0)
                } else if node.kind == NodeKind::App && app.is_some() && &node.app == app {
                    Some(1)
                } else {
                    None
                }
            }
            TreeTarget::App {
                cluster,
                namespace,
                app,
            } if same_cluster(&node.cluster, cluster) && &node.namespace == namespace => {
                match (node.kind, node.app.as_deref() == Some(app)) {
                    (NodeKind::App, true) => Some(0),
                    (_, true) if node.workload.is_some() => Some(1),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(rank) = rank {
            if best
                .as_ref()
                .is_none_or(|(r, k)| (rank, &node.key) < (*r, k))
            {
                best = Some((rank, node.key.clone()));
            }
        }
    }
    best.map(|(_, key)| key)
}

/// Health of what a pod says about itself: failed or unready pods are what an SRE looks
/// for first, so they mark their workload too.
fn pod_health(pod: &PodInfo) -> Health {
    match pod.phase {
        PodPhase::Failed => Health::Failure,
        PodPhase::Pending | PodPhase::Unknown => Health::Degraded,
        PodPhase::Running if !pod.ready => Health::Degraded,
        PodPhase::Running | PodPhase::Succeeded => Health::Healthy,
    }
}

fn pod_detail(pod: &PodInfo) -> String {
    let phase = match pod.phase {
        PodPhase::Pending => "Pending",
        PodPhase::Running if pod.ready => "Running",
        PodPhase::Running => "Running, not ready",
        PodPhase::Succeeded => "Succeeded",
        PodPhase::Failed => "Failed",
        PodPhase::Unknown => "Unknown",
    };
    let restarts = match pod.restarts {
        0 => String::new(),
        1 => ", 1 restart".to_owned(),
        n => format!(", {n} restarts"),
    };
    let sidecar = if pod.sidecar_injected {
        ""
    } else {
        ", no sidecar"
    };
    format!("{phase}{restarts}{sidecar}")
}

/// Builds the tree. Workload health is the worse of its traffic's (from the graph, when the
/// graph has a node for it) and its pods'; apps, namespaces and clusters take their
/// children's worst.
pub fn build_tree(inventory: &Inventory, graph: &MeshGraph) -> Vec<TreeEntry> {
    let mut traffic: HashMap<(&str, &str), Health> = HashMap::new();
    for (_, node) in graph.nodes() {
        if let Some(workload) = &node.workload {
            let health = traffic
                .entry((node.namespace.as_str(), workload.as_str()))
                .or_default();
            *health = (*health).max(node.health);
        }
    }
    let mut pods: HashMap<(&str, &str, &str), Vec<&PodInfo>> = HashMap::new();
    for pod in &inventory.pods {
        if let Some(workload) = &pod.workload {
            pods.entry((&pod.cluster, &pod.namespace, workload))
                .or_default()
                .push(pod);
        }
    }

    // cluster → namespace → app (None: workloads without an app label) → workloads
    type Apps<'a> = BTreeMap<Option<&'a str>, Vec<TreeEntry>>;
    let mut clusters: BTreeMap<&str, BTreeMap<&str, Apps>> = BTreeMap::new();
    for namespace in &inventory.namespaces {
        clusters
            .entry(&namespace.cluster)
            .or_default()
            .entry(&namespace.name)
            .or_default();
    }
    for workload in &inventory.workloads {
        let mut children: Vec<TreeEntry> = pods
            .get(&(
                workload.cluster.as_str(),
                workload.namespace.as_str(),
                workload.name.as_str(),
            ))
            .map(|pods| {
                pods.iter()
                    .map(|pod| TreeEntry {
                        id: format!("pod:{}", pod.name),
                        level: TreeLevel::Pod,
                        label: sanitize(&pod.name),
                        detail: pod_detail(pod),
                        health: pod_health(pod),
                        target: TreeTarget::Workload {
                            cluster: workload.cluster.clone(),
                            namespace: workload.namespace.clone(),
                            workload: workload.name.clone(),
                            app: workload.app.clone(),
                        },
                        children: Vec::new(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        children.sort_by(|a, b| a.label.cmp(&b.label));
        let pods_health = children.iter().map(|c| c.health).max().unwrap_or_default();
        let readiness = if workload.pods_desired > 0 && workload.pods_ready == 0 {
            Health::Failure
        } else if workload.pods_ready < workload.pods_desired {
            Health::Degraded
        } else {
            Health::NoTraffic
        };
        let traffic_health = traffic
            .get(&(workload.namespace.as_str(), workload.name.as_str()))
            .copied()
            .unwrap_or_default();
        let entry = TreeEntry {
            // A Deployment and a StatefulSet may share a name.
            id: format!("wl:{:?}:{}", workload.kind, workload.name),
            level: TreeLevel::Workload,
            label: sanitize(&workload.name),
            detail: format!("{}/{} ready", workload.pods_ready, workload.pods_desired),
            health: traffic_health.max(pods_health).max(readiness),
            target: TreeTarget::Workload {
                cluster: workload.cluster.clone(),
                namespace: workload.namespace.clone(),
                workload: workload.name.clone(),
                app: workload.app.clone(),
            },
            children,
        };
        clusters
            .entry(&workload.cluster)
            .or_default()
            .entry(&workload.namespace)
            .or_default()
            .entry(workload.app.as_deref())
            .or_default()
            .push(entry);
    }

    clusters
        .into_iter()
        .map(|(cluster, namespaces)| {
            let namespace_entries: Vec<TreeEntry> = namespaces
                .into_iter()
                .map(|(namespace, apps)| namespace_entry(cluster, namespace, apps))
                .collect();
            TreeEntry {
                id: format!("cluster:{cluster}"),
                level: TreeLevel::Cluster,
                label: sanitize(cluster),
                detail: format!("{} namespaces", namespace_entries.len()),
                health: worst(&namespace_entries),
                target: TreeTarget::Cluster,
                children: namespace_entries,
            }
        })
        .collect()
}

fn namespace_entry(
    cluster: &str,
    namespace: &str,
    apps: BTreeMap<Option<&str>, Vec<TreeEntry>>,
) -> TreeEntry {
    let mut children = Vec::new();
    let mut loose = Vec::new();
    for (app, mut workloads) in apps {
        workloads.sort_by(|a, b| a.label.cmp(&b.label));
        match app {
            Some(app) => children.push(TreeEntry {
                id: format!("app:{app}"),
                level: TreeLevel::App,
                label: sanitize(app),
                detail: match workloads.len() {
                    1 => "1 workload".to_owned(),
                    n => format!("{n} workloads"),
                },
                health: worst(&workloads),
                target: TreeTarget::App {
                    cluster: cluster.to_owned(),
                    namespace: namespace.to_owned(),
                    app: app.to_owned(),
                },
                children: workloads,
            }),
            None => loose.extend(workloads),
        }
    }
    children.extend(loose);
    TreeEntry {
        id: format!("ns:{namespace}"),
        level: TreeLevel::Namespace,
        label: sanitize(namespace),
        detail: String::new(),
        health: worst(&children),
        target: TreeTarget::Namespace {
            namespace: namespace.to_owned(),
        },
        children,
    }
}

fn worst(entries: &[TreeEntry]) -> Health {
    entries.iter().map(|e| e.health).max().unwrap_or_default()
}
