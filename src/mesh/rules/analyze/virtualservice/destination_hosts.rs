//! `virtualservice.DestinationHostAnalyzer`: every route and mirror host must be a known
//! service visible from the VirtualService (IST0101), with a port it exposes, named when
//! it exposes several (IST0112); and a gateway-bound route without a subset to a host
//! another VirtualService splits by subsets gets IST0140.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::mesh::rules::analyze::hosts::{export_to, KnownService, ServiceRegistry};
use crate::mesh::rules::analyze::message::{text, Message, MessageKind};
use crate::mesh::rules::analyze::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, items, number, str_of, strings, KubeObject};

use super::{gateways, mirror_destinations, mirror_path, route_destinations, RouteDestination};

pub fn analyze(snapshot: &Snapshot, out: &mut Vec<Message>) {
    let registry = ServiceRegistry::new(snapshot);
    let with_subsets = destinations_with_subsets(snapshot);
    for vs in snapshot.of_kind(Kind::VirtualService) {
        check_hosts(vs, &registry, out);
        check_routes_without_subset(vs, &with_subsets, out);
    }
}

fn check_hosts(vs: &KubeObject, registry: &ServiceRegistry, out: &mut Vec<Message>) {
    let spec = vs.spec();
    let exported = export_to(spec);
    for d in route_destinations(spec) {
        match registry.lookup(vs.namespace(), &exported, d.host()) {
            None => out.push(Message::about(
                vs,
                Some(&d.host_path()),
                MessageKind::ReferencedResourceNotFound,
                text::referenced_resource_not_found("host", d.host()),
            )),
            Some(service) => check_port(vs, &d, service, out),
        }
    }
    for d in mirror_destinations(spec) {
        match registry.lookup(vs.namespace(), &exported, d.host()) {
            None => out.push(Message::about(
                vs,
                Some(&mirror_path(d.rule_index)),
                MessageKind::ReferencedResourceNotFound,
                text::referenced_resource_not_found("mirror host", d.host()),
            )),
            Some(service) => check_port(vs, &d, service, out),
        }
    }
}

fn check_port(
    vs: &KubeObject,
    d: &RouteDestination<'_>,
    service: &KnownService,
    out: &mut Vec<Message>,
) {
    let path = if d.rule == "http.mirror" {
        mirror_path(d.rule_index)
    } else {
        d.host_path()
    };
    let port = field(d.destination, "port");
    if !port.is_object() {
        if service.ports.len() > 1 {
            out.push(Message::about(
                vs,
                Some(&path),
                MessageKind::VirtualServiceDestinationPortSelectorRequired,
                text::port_selector_required(d.host(), &service.ports),
            ));
        }
        return;
    }
    let number = number(field(port, "number")).unwrap_or(0);
    if !service.ports.contains(&number) {
        out.push(Message::about(
            vs,
            Some(&path),
            MessageKind::ReferencedResourceNotFound,
            text::referenced_resource_not_found("host:port", &format!("{}:{number}", d.host())),
        ));
    }
}

/// For each VirtualService (by full name), its HTTP route destinations that pick a subset
/// of one of its own hosts (once per host they equal).
fn destinations_with_subsets(snapshot: &Snapshot) -> BTreeMap<String, Vec<&Value>> {
    let mut found: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for vs in snapshot.of_kind(Kind::VirtualService) {
        let spec = vs.spec();
        let hosts = strings(field(spec, "hosts"));
        for http in items(field(spec, "http")) {
            for route in items(field(http, "route")) {
                let destination = field(route, "destination");
                if str_of(field(destination, "subset")).is_empty() {
                    continue;
                }
                let host = str_of(field(destination, "host"));
                for own in &hosts {
                    if own == host {
                        found.entry(vs.full_name()).or_default().push(destination);
                    }
                }
            }
        }
    }
    found
}

fn check_routes_without_subset(
    vs: &KubeObject,
    with_subsets: &BTreeMap<String, Vec<&Value>>,
    out: &mut Vec<Message>,
) {
    let spec = vs.spec();
    if gateways(spec).is_empty() {
        return;
    }
    for (rule_index, http) in items(field(spec, "http")).iter().enumerate() {
        for (index, route) in items(field(http, "route")).iter().enumerate() {
            let destination = field(route, "destination");
            if !str_of(field(destination, "subset")).is_empty() {
                continue;
            }
            let host = str_of(field(destination, "host"));
            for (other, destinations) in with_subsets {
                for split in destinations {
                    if str_of(field(split, "host")) == host {
                        // istioctl looks the line up under the route's name, which is no
                        // field: the message points at the object.
                        let path = format!(
                            ".spec.{}[{rule_index}].route[{index}].destination.host",
                            str_of(field(http, "name"))
                        );
                        out.push(Message::about(
                            vs,
                            Some(&path),
                            MessageKind::IngressRouteRulesNotAffected,
                            text::ingress_route_rules_not_affected(other, &vs.full_name()),
                        ));
                    }
                }
            }
        }
    }
}
