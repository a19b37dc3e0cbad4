//! `virtualservice.DestinationRuleAnalyzer` (IST0101): a route or mirror that picks a
//! subset needs a DestinationRule for that host defining it.

use std::collections::HashSet;

use crate::mesh::rules::analyze::hosts::resource_name_from_host;
use crate::mesh::rules::analyze::message::{text, Message, MessageKind};
use crate::mesh::rules::analyze::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, items, str_of, KubeObject};

use super::{mirror_destinations, mirror_path, route_destinations, RouteDestination};

/// (namespace, name, subset) of every subset some DestinationRule defines.
type Defined = HashSet<(String, String, String)>;

pub fn analyze(snapshot: &Snapshot, out: &mut Vec<Message>) {
    let mut defined = Defined::new();
    for rule in snapshot.of_kind(Kind::DestinationRule) {
        let host = str_of(field(rule.spec(), "host"));
        let (namespace, name) = resource_name_from_host(rule.namespace(), host);
        for subset in items(field(rule.spec(), "subsets")) {
            let subset = str_of(field(subset, "name")).to_owned();
            defined.insert((namespace.clone(), name.clone(), subset));
        }
    }
    for vs in snapshot.of_kind(Kind::VirtualService) {
        for d in route_destinations(vs.spec()) {
            if !is_defined(vs, &d, &defined) {
                out.push(Message::about(
                    vs,
                    Some(&d.host_path()),
                    MessageKind::ReferencedResourceNotFound,
                    text::referenced_resource_not_found(
                        "host+subset in destinationrule",
                        &format!("{}+{}", d.host(), d.subset()),
                    ),
                ));
            }
        }
        for d in mirror_destinations(vs.spec()) {
            if !is_defined(vs, &d, &defined) {
                out.push(Message::about(
                    vs,
                    Some(&mirror_path(d.rule_index)),
                    MessageKind::ReferencedResourceNotFound,
                    text::referenced_resource_not_found(
                        "mirror+subset in destinationrule",
                        &format!("{}+{}", d.host(), d.subset()),
                    ),
                ));
            }
        }
    }
}

fn is_defined(vs: &KubeObject, d: &RouteDestination<'_>, defined: &Defined) -> bool {
    if d.subset().is_empty() {
        return true;
    }
    let (namespace, name) = resource_name_from_host(vs.namespace(), d.host());
    defined.contains(&(namespace, name, d.subset().to_owned()))
}
