//! The stack of views: the topology (or its edge table) at the bottom, the detail views a
//! user opened on top. Esc pops one; the breadcrumbs name each.

use super::application::AppView;
use super::service::ServiceView;
use super::tree::TreeNavigator;
use super::workload::WorkloadView;

/// What a detail view is about: a workload, a service or an app of one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetailTarget {
    Workload(ObjectId),
    Service(ObjectId),
    App(ObjectId),
}

/// An object by cluster, namespace and name (an app's name for apps).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectId {
    pub fn new(cluster: &str, namespace: &str, name: &str) -> Self {
        ObjectId {
            cluster: cluster.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum View {
    Topology,
    EdgeTable,
    Workload(Box<WorkloadView>),
    Service(Box<ServiceView>),
    App(Box<AppView>),
    /// The tree navigator: cluster → namespace → app → workload → pod.
    Tree(Box<TreeNavigator>),
}

impl View {
    /// The topology or its edge table: the views the stack starts from.
    pub fn is_root(&self) -> bool {
        matches!(self, View::Topology | View::EdgeTable)
    }

    /// The detail view's subject; `None` for the root views.
    pub fn target(&self) -> Option<DetailTarget> {
        match self {
            View::Topology | View::EdgeTable | View::Tree(_) => None,
            View::Workload(v) => Some(DetailTarget::Workload(v.id.clone())),
            View::Service(v) => Some(DetailTarget::Service(v.id.clone())),
            View::App(v) => Some(DetailTarget::App(v.id.clone())),
        }
    }

    /// The list the `/` filter and the row keys work on, in a detail view.
    pub fn cursor(&self) -> Option<&ListCursor> {
        match self {
            View::Topology | View::EdgeTable | View::Tree(_) => None,
            View::Workload(v) => Some(&v.cursor),
            View::Service(v) => Some(&v.cursor),
            View::App(v) => Some(&v.cursor),
        }
    }

    pub fn cursor_mut(&mut self) -> Option<&mut ListCursor> {
        match self {
            View::Topology | View::EdgeTable | View::Tree(_) => None,
            View::Workload(v) => Some(&mut v.cursor),
            View::Service(v) => Some(&mut v.cursor),
            View::App(v) => Some(&mut v.cursor),
        }
    }
}

/// Never empty: the root view is always at the bottom.
#[derive(Debug, Clone)]
pub struct ViewStack {
    views: Vec<View>,
}

impl Default for ViewStack {
    fn default() -> Self {
        ViewStack {
            views: vec![View::Topology],
        }
    }
}

impl ViewStack {
    pub fn current(&self) -> &View {
        // The stack is never empty; the root stands in should that ever break.
        self.views.last().unwrap_or(&View::Topology)
    }

    pub fn current_mut(&mut self) -> &mut View {
        if self.views.is_empty() {
            self.views.push(View::Topology);
        }
        let last = self.views.len() - 1;
        &mut self.views[last]
    }

    pub fn root(&self) -> &View {
        self.views.first().unwrap_or(&View::Topology)
    }

    /// Swaps the root between the topology and the edge table.
    pub fn set_root(&mut self, root: View) {
        if root.is_root() {
            match self.views.first_mut() {
                Some(first) => *first = root,
                None => self.views.push(root),
            }
        }
    }

    pub fn push(&mut self, view: View) {
        self.views.push(view);
    }

    /// Leaves the current detail view; the root stays.
    pub fn pop(&mut self) -> Option<View> {
        if self.views.len() > 1 {
            self.views.pop()
        } else {
            None
        }
    }

    pub fn pop_to_root(&mut self) {
        self.views.truncate(1);
    }

    /// Views above the root.
    pub fn depth(&self) -> usize {
        self.views.len().saturating_sub(1)
    }

    pub fn iter(&self) -> impl Iterator<Item = &View> {
        self.views.iter()
    }

    pub fn is_at_root(&self) -> bool {
        self.views.len() <= 1
    }
}

/// The row selected in a detail view's list, and the `/` filter on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListCursor {
    /// Position among the rows the filter lets through.
    pub selected: usize,
    /// Case-insensitive text a row must contain; empty lets every row through.
    pub filter: String,
    /// First line shown of the view's scrolling text (the service view's YAML).
    pub scroll: u16,
}

impl ListCursor {
    /// Whether a row with these words passes the filter.
    pub fn admits<'a>(&self, words: impl IntoIterator<Item = &'a str>) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let wanted = self.filter.to_lowercase();
        words
            .into_iter()
            .any(|w| w.to_lowercase().contains(&wanted))
    }

    /// Indices of the rows that pass, given each row's words.
    pub fn visible<T>(&self, rows: &[T], words: impl Fn(&T) -> Vec<&str>) -> Vec<usize> {
        rows.iter()
            .enumerate()
            .filter(|(_, row)| self.admits(words(row)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The selection kept within `count` rows.
    pub fn clamped(&self, count: usize) -> usize {
        self.selected.min(count.saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_stays_when_every_detail_view_is_popped() {
        let mut stack = ViewStack::default();
        assert!(stack.pop().is_none());
        stack.set_root(View::EdgeTable);
        stack.push(View::Topology);
        assert_eq!(stack.depth(), 1);
        assert!(stack.pop().is_some());
        assert!(stack.pop().is_none());
        assert!(matches!(stack.current(), View::EdgeTable));
    }

    #[test]
    fn the_filter_matches_any_word_without_regard_to_case() {
        let cursor = ListCursor {
            filter: "REV".into(),
            ..ListCursor::default()
        };
        let rows = ["productpage", "reviews-v1", "ratings", "reviews-v2"];
        assert_eq!(cursor.visible(&rows, |r| vec![*r]), vec![1, 3]);
        assert_eq!(ListCursor::default().visible(&rows, |r| vec![*r]).len(), 4);
    }
}
