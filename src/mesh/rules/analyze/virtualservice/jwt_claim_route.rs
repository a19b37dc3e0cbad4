//! `virtualservice.JWTClaimRouteAnalyzer` (IST0149): routing on `@request.auth.claims…`
//! only works when a RequestAuthentication (in the pod's namespace or `istio-system`)
//! selects every pod of the gateways the VirtualService binds.

use std::collections::{BTreeMap, HashMap};

use crate::mesh::rules::analyze::hosts::MESH_GATEWAY;
use crate::mesh::rules::analyze::message::{text, Message, MessageKind};
use crate::mesh::rules::analyze::selector::selects;
use crate::mesh::rules::analyze::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, full_name, items, string_map, KubeObject};

use super::gateways;

const CLAIM_HEADER: &str = "@request.auth.claims";
/// RequestAuthentications here apply to every namespace's pods (the root namespace).
const ROOT_NAMESPACE: &str = "istio-system";

pub fn analyze(snapshot: &Snapshot, out: &mut Vec<Message>) {
    let mut selectors: HashMap<&str, Vec<BTreeMap<String, String>>> = HashMap::new();
    for authn in snapshot.of_kind(Kind::RequestAuthentication) {
        let labels = string_map(field(field(authn.spec(), "selector"), "matchLabels"));
        selectors.entry(authn.namespace()).or_default().push(labels);
    }
    for vs in snapshot.of_kind(Kind::VirtualService) {
        let Some(key) = claim_key(vs) else {
            continue;
        };
        for reference in gateways(vs.spec()) {
            if reference == MESH_GATEWAY {
                continue;
            }
            let (namespace, name) = match reference.split_once('/') {
                Some((namespace, name)) => (namespace, name),
                None => (vs.namespace(), reference.as_str()),
            };
            // A missing gateway is the gateway analyzer's to report.
            let Some(gateway) = snapshot.find(Kind::Gateway, namespace, name) else {
                continue;
            };
            let gateway_selector = string_map(field(gateway.spec(), "selector"));
            for pod in snapshot.of_kind(Kind::Pod) {
                let labels = pod.labels();
                if !selects(&gateway_selector, &labels) {
                    continue;
                }
                let mut applicable = selectors
                    .get(ROOT_NAMESPACE)
                    .into_iter()
                    .chain(selectors.get(pod.namespace()))
                    .flatten();
                if !applicable.any(|s| selects(s, &labels)) {
                    out.push(Message::about(
                        vs,
                        None,
                        MessageKind::JwtClaimBasedRoutingWithoutRequestAuthN,
                        text::jwt_claim_route_without_authn(
                            &key,
                            &full_name(namespace, name),
                            pod.name(),
                        ),
                    ));
                }
            }
        }
    }
}

/// The first header (or `withoutHeaders`) key of an HTTP match that routes on a claim:
/// `@request.auth.claims.name…` or `@request.auth.claims[name]…`.
fn claim_key(vs: &KubeObject) -> Option<String> {
    for http in items(field(vs.spec(), "http")) {
        for request in items(field(http, "match")) {
            for headers in ["headers", "withoutHeaders"] {
                let found = field(request, headers)
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(key, _)| key)
                    .find(|key| is_claim(key));
                if let Some(key) = found {
                    return Some(key.clone());
                }
            }
        }
    }
    None
}

fn is_claim(header: &str) -> bool {
    let prefix_len = CLAIM_HEADER.len();
    let lower_prefix = header
        .get(..prefix_len)
        .map(str::to_lowercase)
        .unwrap_or_default();
    if lower_prefix != CLAIM_HEADER {
        return false;
    }
    let rest = header.get(prefix_len..).unwrap_or("");
    (rest.starts_with('.') && rest.len() > 1)
        || (rest.starts_with('[') && rest.ends_with(']') && rest.len() > 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_headers_are_recognised_in_both_forms() {
        let cases = [
            ("dot form", "@request.auth.claims.group", true),
            ("bracket form", "@request.auth.claims[group]", true),
            ("any case prefix", "@Request.Auth.Claims.group", true),
            ("no claim name", "@request.auth.claims.", false),
            ("empty brackets", "@request.auth.claims[]", false),
            ("a plain header", "x-user", false),
        ];
        for (name, header, want) in cases {
            assert_eq!(is_claim(header), want, "{name}");
        }
    }
}
