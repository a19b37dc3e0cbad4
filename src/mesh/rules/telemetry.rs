//! The Telemetry resource (telemetry.istio.io) that makes a namespace's proxies label
//! request metrics with the operation, and the reading of one: does it add that label,
//! and on which side (client, server) of a request.

use serde_json::{json, Value};

use super::render::{MANAGED_BY_LABEL, MANAGER};

pub const TELEMETRY_API: &str = "telemetry.istio.io/v1";

/// What the operation label is set to: the request's method and path. Istio's metrics
/// attributes are Envoy attributes combined with CEL; `request.url_path` is the path
/// without the query string. Paths carrying IDs make one series per ID: the view says so.
pub const OPERATION_EXPRESSION: &str = "request.method + \" \" + request.url_path";

/// The metrics the label is added to: the request count (rates, errors) and the duration
/// histogram (p95). TCP metrics have no request, so `ALL_METRICS` would be wrong there.
const METRICS: [&str; 2] = ["REQUEST_COUNT", "REQUEST_DURATION"];

/// The name meshtui gives its Telemetry for `label`: a DNS-1123 name.
pub fn telemetry_name(label: &str) -> String {
    let name: String = label
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    format!("meshtui-{}", name.trim_matches('-'))
}

/// A namespace-wide Telemetry (no selector) adding `label` to the request metrics of
/// every proxy in `namespace`, on both sides of a request, for the Prometheus provider.
pub fn operation_telemetry(namespace: &str, label: &str) -> Value {
    let overrides: Vec<Value> = METRICS
        .iter()
        .map(|metric| {
            json!({
                "match": { "metric": metric, "mode": "CLIENT_AND_SERVER" },
                "tagOverrides": { label: { "operation": "UPSERT", "value": OPERATION_EXPRESSION } },
            })
        })
        .collect();
    json!({
        "apiVersion": TELEMETRY_API,
        "kind": "Telemetry",
        "metadata": {
            "name": telemetry_name(label),
            "namespace": namespace,
            "labels": { MANAGED_BY_LABEL: MANAGER },
        },
        "spec": {
            "metrics": [{
                "providers": [{ "name": "prometheus" }],
                "overrides": overrides,
            }],
        },
    })
}

/// Which side's proxies a Telemetry makes label request counts with an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Labelling {
    /// The client's proxy (`reporter="source"`).
    pub client: bool,
    /// The server's proxy (`reporter="destination"`).
    pub server: bool,
}

impl Labelling {
    pub fn or(self, other: Labelling) -> Labelling {
        Labelling {
            client: self.client || other.client,
            server: self.server || other.server,
        }
    }
}

/// Whether `telemetry` (a Telemetry object without a workload selector) upserts `label`
/// on the request count. Overrides for other metrics, removals and disabled overrides do
/// not count; an override without `match` applies to every metric on both sides.
pub fn labels_requests_with(telemetry: &Value, label: &str) -> Labelling {
    let spec = &telemetry["spec"];
    if spec.get("selector").is_some() || spec.get("targetRefs").is_some() {
        return Labelling::default();
    }
    let overrides = spec["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["overrides"].as_array().into_iter().flatten());
    overrides
        .filter(|o| o["disabled"].as_bool() != Some(true))
        .filter(|o| {
            let tag = &o["tagOverrides"][label];
            tag.is_object()
                && tag["operation"].as_str().unwrap_or("UPSERT") == "UPSERT"
                && tag["value"].as_str().is_some_and(|v| !v.is_empty())
        })
        .filter(|o| {
            matches!(
                o["match"]["metric"].as_str(),
                None | Some("ALL_METRICS" | "REQUEST_COUNT")
            ) && o["match"].get("customMetric").is_none()
        })
        .map(|o| match o["match"]["mode"].as_str() {
            Some("CLIENT") => Labelling {
                client: true,
                server: false,
            },
            Some("SERVER") => Labelling {
                client: false,
                server: true,
            },
            _ => Labelling {
                client: true,
                server: true,
            },
        })
        .fold(Labelling::default(), Labelling::or)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::rules::CrdSchemas;

    #[test]
    fn the_rendered_telemetry_passes_istios_crd_schema_and_its_cel_rules() {
        let telemetry = operation_telemetry("shop", "request_operation");
        let verdict = CrdSchemas::embedded().validate(&telemetry).unwrap();
        assert_eq!(verdict.violations, vec![], "{telemetry:#}");
        assert_eq!(telemetry["metadata"]["name"], "meshtui-request-operation");
        assert_eq!(
            telemetry["spec"]["metrics"][0]["overrides"][0]["tagOverrides"]["request_operation"]
                ["value"],
            "request.method + \" \" + request.url_path"
        );
    }

    #[test]
    fn an_upsert_without_a_value_is_refused_by_the_schema() {
        let mut telemetry = operation_telemetry("shop", "request_operation");
        telemetry["spec"]["metrics"][0]["overrides"][0]["tagOverrides"]["request_operation"]
            ["value"] = json!("");
        let verdict = CrdSchemas::embedded().validate(&telemetry).unwrap();
        assert!(!verdict.violations.is_empty());
    }

    #[test]
    fn a_telemetry_labels_requests_on_the_sides_its_overrides_say() {
        let ours = operation_telemetry("shop", "request_operation");
        let both = Labelling {
            client: true,
            server: true,
        };
        assert_eq!(labels_requests_with(&ours, "request_operation"), both);
        assert_eq!(
            labels_requests_with(&ours, "other_label"),
            Labelling::default()
        );
        let cases = [
            (
                "server only",
                json!({"match": {"mode": "SERVER"}, "tagOverrides": {"op": {"value": "x"}}}),
                Labelling {
                    client: false,
                    server: true,
                },
            ),
            (
                "a removal",
                json!({"tagOverrides": {"op": {"operation": "REMOVE"}}}),
                Labelling::default(),
            ),
            (
                "durations only",
                json!({"match": {"metric": "REQUEST_DURATION"}, "tagOverrides": {"op": {"value": "x"}}}),
                Labelling::default(),
            ),
            (
                "disabled",
                json!({"disabled": true, "tagOverrides": {"op": {"value": "x"}}}),
                Labelling::default(),
            ),
        ];
        for (name, override_, want) in cases {
            let telemetry = json!({"spec": {"metrics": [{"overrides": [override_]}]}});
            assert_eq!(labels_requests_with(&telemetry, "op"), want, "{name}");
        }
        let selected = json!({"spec": {"selector": {"matchLabels": {"app": "a"}},
            "metrics": [{"overrides": [{"tagOverrides": {"op": {"value": "x"}}}]}]}});
        assert_eq!(
            labels_requests_with(&selected, "op"),
            Labelling::default(),
            "a workload selector narrows it to some pods"
        );
    }

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(telemetry_name("Request_Op"), "meshtui-request-op");
    }
}

/// Why meshtui's namespace-wide Telemetry named `ours` must not be added next to
/// `existing` (the namespace's Telemetry resources): Istio takes one namespace-wide
/// Telemetry per namespace (one without `selector` or `targetRefs`); a second makes which
/// one applies undefined. `None` when there is no other.
pub fn second_namespace_wide(ours: &str, existing: &[Value]) -> Option<String> {
    let namespace_wide = |t: &&Value| {
        let spec = &t["spec"];
        spec.get("selector").is_none()
            && spec.get("targetRef").is_none()
            && spec.get("targetRefs").is_none()
    };
    let other = existing
        .iter()
        .filter(namespace_wide)
        .map(|t| t["metadata"]["name"].as_str().unwrap_or_default())
        .find(|name| *name != ours)?;
    let namespace = existing
        .iter()
        .find_map(|t| t["metadata"]["namespace"].as_str())
        .unwrap_or_default();
    Some(format!(
        "namespace {namespace} already has a namespace-wide Telemetry, {other}; Istio applies \
         only one per namespace: add the tag override to {other} instead"
    ))
}

#[cfg(test)]
mod second_telemetry_tests {
    use super::*;

    fn telemetry(name: &str, spec: Value) -> Value {
        json!({"metadata": {"name": name, "namespace": "shop"}, "spec": spec})
    }

    #[test]
    fn only_another_telemetry_without_selector_or_target_stands_in_the_way() {
        let ours = "meshtui-request-operation";
        let cases = [
            ("none", vec![], false),
            ("ours again", vec![telemetry(ours, json!({}))], false),
            (
                "one for some workloads",
                vec![telemetry(
                    "logs",
                    json!({"selector": {"matchLabels": {"app": "cart"}}}),
                )],
                false,
            ),
            (
                "one for a gateway",
                vec![telemetry(
                    "gw",
                    json!({"targetRefs": [{"kind": "Gateway", "name": "x"}]}),
                )],
                false,
            ),
            (
                "the namespace's own",
                vec![telemetry("namespace-logging", json!({"accessLogging": []}))],
                true,
            ),
        ];
        for (name, existing, refused) in cases {
            let why = second_namespace_wide(ours, &existing);
            assert_eq!(why.is_some(), refused, "{name}: {why:?}");
            if let Some(why) = why {
                assert!(
                    why.contains("namespace-logging") && why.contains("shop"),
                    "{why}"
                );
            }
        }
    }
}
