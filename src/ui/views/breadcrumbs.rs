//! The header of a detail view: where the user is, as breadcrumbs from the topology.

use ratatui::text::Span;

use crate::app::views::View;
use crate::app::State;
use crate::config::Slot;
use crate::ui::Chrome;

/// `topology › bookinfo › reviews-v2 › pods`: the root, then each view's namespace where
/// it changes, its subject, and a workload view's tab.
pub fn breadcrumbs(state: &State, chrome: &Chrome) -> Vec<Span<'static>> {
    let theme = chrome.theme;
    let separator = if chrome.ascii { " > " } else { " › " };
    let mut crumbs: Vec<String> = Vec::new();
    let mut namespace: Option<&str> = None;
    for view in state.views.iter() {
        let (ns, name, kind) = match view {
            View::Topology => {
                crumbs.push("topology".into());
                continue;
            }
            View::EdgeTable => {
                crumbs.push("edges".into());
                continue;
            }
            View::Tree(_) => {
                crumbs.push("tree".into());
                namespace = None;
                continue;
            }
            View::Workload(v) => (&v.id.namespace, &v.id.name, ""),
            View::Service(v) => (&v.id.namespace, &v.id.name, " (svc)"),
            View::App(v) => (&v.id.namespace, &v.id.name, " (app)"),
        };
        if namespace != Some(ns.as_str()) {
            crumbs.push(ns.clone());
            namespace = Some(ns);
        }
        crumbs.push(format!("{name}{kind}"));
    }
    if let View::Workload(v) = state.views.current() {
        crumbs.push(v.tab.label().to_owned());
    }
    let last = crumbs.len().saturating_sub(1);
    let mut spans = Vec::new();
    for (i, crumb) in crumbs.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(separator, theme.style(Slot::Muted)));
        }
        let slot = if i == last { Slot::Title } else { Slot::Text };
        spans.push(Span::styled(crumb, theme.style(slot)));
    }
    spans
}
