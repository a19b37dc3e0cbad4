//! The VirtualService analyzers, and the walk over a VirtualService's destinations that
//! several of them share.

pub mod conflicting_hosts;
pub mod destination_hosts;
pub mod destination_rules;
pub mod gateways;
pub mod jwt_claim_route;
pub mod matches;

use serde_json::Value;

use crate::mesh::rules::object::{field, items};

/// One destination of a route or a mirror, with where it sits in the spec.
pub struct RouteDestination<'v> {
    /// `tcp`, `tls`, `http`, `http.mirror` or `http.mirrors`.
    pub rule: &'static str,
    pub rule_index: usize,
    pub index: usize,
    pub destination: &'v Value,
}

impl RouteDestination<'_> {
    pub fn host(&self) -> &str {
        field(self.destination, "host").as_str().unwrap_or("")
    }

    pub fn subset(&self) -> &str {
        field(self.destination, "subset").as_str().unwrap_or("")
    }

    /// The path istioctl looks the line up at (for mirrors it names a field that does not
    /// exist, so those messages point at the object: kept as istioctl has it).
    pub fn host_path(&self) -> String {
        format!(
            ".spec.{}[{}].route[{}].destination.host",
            self.rule, self.rule_index, self.index
        )
    }
}

/// The route destinations: TCP first, then TLS, then HTTP.
pub fn route_destinations(spec: &Value) -> Vec<RouteDestination<'_>> {
    let mut found = Vec::new();
    for rule in ["tcp", "tls", "http"] {
        for (rule_index, route) in items(field(spec, rule)).iter().enumerate() {
            for (index, weighted) in items(field(route, "route")).iter().enumerate() {
                found.push(RouteDestination {
                    rule,
                    rule_index,
                    index,
                    destination: field(weighted, "destination"),
                });
            }
        }
    }
    found
}

/// The mirror destinations of HTTP routes: `mirror`, then each of `mirrors`.
pub fn mirror_destinations(spec: &Value) -> Vec<RouteDestination<'_>> {
    let mut found = Vec::new();
    for (rule_index, route) in items(field(spec, "http")).iter().enumerate() {
        let mirror = field(route, "mirror");
        if mirror.is_object() {
            found.push(RouteDestination {
                rule: "http.mirror",
                rule_index,
                index: 0,
                destination: mirror,
            });
        }
        for (index, mirror) in items(field(route, "mirrors")).iter().enumerate() {
            found.push(RouteDestination {
                rule: "http.mirrors",
                rule_index,
                index,
                destination: field(mirror, "destination"),
            });
        }
    }
    found
}

/// The line istioctl reports for a mirror's host.
pub fn mirror_path(rule_index: usize) -> String {
    format!(".spec.http[{rule_index}].mirror.host")
}

/// `spec.gateways`, strings only.
pub fn gateways(spec: &Value) -> Vec<String> {
    crate::mesh::rules::object::strings(field(spec, "gateways"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn destinations_are_walked_tcp_then_tls_then_http_and_mirrors_apart() {
        let spec = json!({
            "http": [{"route": [{"destination": {"host": "h0"}}, {"destination": {"host": "h1"}}],
                      "mirror": {"host": "m"}, "mirrors": [{"destination": {"host": "ms"}}]}],
            "tcp": [{"route": [{"destination": {"host": "t"}}]}],
        });
        let found = route_destinations(&spec);
        let routes: Vec<(String, String)> = found
            .iter()
            .map(|d| (d.host().to_owned(), d.host_path()))
            .collect();
        assert_eq!(
            routes,
            [
                ("t".into(), ".spec.tcp[0].route[0].destination.host".into()),
                (
                    "h0".into(),
                    ".spec.http[0].route[0].destination.host".into()
                ),
                (
                    "h1".into(),
                    ".spec.http[0].route[1].destination.host".into()
                ),
            ]
        );
        let found = mirror_destinations(&spec);
        let mirrors: Vec<(&str, &str)> = found.iter().map(|d| (d.rule, d.host())).collect();
        assert_eq!(mirrors, [("http.mirror", "m"), ("http.mirrors", "ms")]);
    }
}
