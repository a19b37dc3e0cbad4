use serde_json::{json, Value};

use super::model::*;
use super::render::*;

fn reviews() -> Target {
    Target {
        namespace: "bookinfo".into(),
        service: "reviews".into(),
    }
}

fn versions() -> Vec<Version> {
    ["v1", "v2", "v3"]
        .iter()
        .map(|v| Version::new(v, "version"))
        .collect()
}

const HOST: &str = "reviews.bookinfo.svc.cluster.local";

fn split(weights: &[(&str, u32)]) -> Split {
    Split {
        weights: weights.iter().map(|(v, w)| (v.to_string(), *w)).collect(),
    }
}

fn rendered(change: &RuleChange, vss: &[Value], drs: &[Value]) -> Vec<ObjectChange> {
    render(
        &reviews(),
        &versions(),
        change,
        Existing {
            virtual_services: vss,
            destination_rules: drs,
        },
    )
}

fn applied(changes: &[ObjectChange], kind: &str) -> Value {
    changes
        .iter()
        .find_map(|c| match c {
            ObjectChange::Apply(object) if object["kind"] == kind => Some(object.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {kind} applied in {changes:?}"))
}

fn managed_labels() -> Value {
    json!({ "app.kubernetes.io/managed-by": "meshtui" })
}

#[test]
fn a_shift_on_a_service_without_rules_creates_a_managed_virtual_service_and_destination_rule() {
    let changes = rendered(
        &RuleChange::Shift(split(&[("v1", 80), ("v2", 0), ("v3", 20)])),
        &[],
        &[],
    );
    assert_eq!(changes.len(), 2);
    assert_eq!(
        applied(&changes, "VirtualService"),
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": managed_labels()},
            "spec": {
                "hosts": ["reviews"],
                "http": [{
                    "name": "meshtui-default",
                    "route": [
                        {"destination": {"host": HOST, "subset": "v1"}, "weight": 80},
                        {"destination": {"host": HOST, "subset": "v3"}, "weight": 20}
                    ]
                }]
            }
        })
    );
    assert_eq!(
        applied(&changes, "DestinationRule"),
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "DestinationRule",
            "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": managed_labels()},
            "spec": {
                "host": "reviews",
                "subsets": [
                    {"name": "v1", "labels": {"version": "v1"}},
                    {"name": "v3", "labels": {"version": "v3"}}
                ]
            }
        })
    );
}

fn others_virtual_service() -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "reviews-routes", "namespace": "bookinfo", "resourceVersion": "7"},
        "spec": {
            "hosts": ["reviews.bookinfo.svc.cluster.local"],
            "http": [
                {"name": "admin", "match": [{"uri": {"prefix": "/admin"}}],
                 "route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
                {"name": "rest", "timeout": "5s",
                 "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}
            ]
        }
    })
}

fn others_destination_rule() -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {
            "host": "reviews",
            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
            "subsets": [{"name": "v1", "labels": {"version": "v1", "track": "stable"}}]
        }
    })
}

#[test]
fn a_shift_edits_the_existing_rules_in_place_and_keeps_what_others_wrote() {
    let changes = rendered(
        &RuleChange::Shift(split(&[("v1", 50), ("v2", 50)])),
        &[others_virtual_service()],
        &[others_destination_rule()],
    );
    let vs = applied(&changes, "VirtualService");
    assert_eq!(
        vs["metadata"]["name"], "reviews-routes",
        "no second VirtualService"
    );
    assert_eq!(vs["metadata"]["resourceVersion"], "7");
    assert_eq!(
        vs["spec"]["http"][0],
        others_virtual_service()["spec"]["http"][0]
    );
    assert_eq!(
        vs["spec"]["http"][1],
        json!({"name": "rest", "timeout": "5s", "route": [
            {"destination": {"host": HOST, "subset": "v1"}, "weight": 50},
            {"destination": {"host": HOST, "subset": "v2"}, "weight": 50}
        ]}),
        "the catch-all route keeps its timeout and takes the split"
    );
    assert_eq!(vs["spec"]["http"].as_array().unwrap().len(), 2);
    let dr = applied(&changes, "DestinationRule");
    assert_eq!(
        dr["spec"],
        json!({
            "host": "reviews",
            "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}},
            "subsets": [
                {"name": "v1", "labels": {"version": "v1", "track": "stable"}},
                {"name": "v2", "labels": {"version": "v2"}}
            ]
        })
    );
}

#[test]
fn applying_the_same_change_twice_changes_nothing_the_second_time() {
    let change = RuleChange::Shift(split(&[("v1", 80), ("v3", 20)]));
    let first = rendered(&change, &[], &[]);
    let vs = applied(&first, "VirtualService");
    let dr = applied(&first, "DestinationRule");
    assert_eq!(rendered(&change, &[vs], &[dr]), vec![]);
}

#[test]
fn a_virtual_service_bound_only_to_a_gateway_is_not_the_one_edited() {
    let mut gateway_only = others_virtual_service();
    gateway_only["spec"]["gateways"] = json!(["bookinfo-gateway"]);
    let changes = rendered(
        &RuleChange::Shift(split(&[("v1", 100)])),
        &[gateway_only],
        &[],
    );
    let vs = applied(&changes, "VirtualService");
    assert_eq!(vs["metadata"]["name"], "reviews");
    assert_eq!(
        vs["spec"]["http"][0]["route"],
        json!([{"destination": {"host": HOST, "subset": "v1"}}]),
        "one destination needs no weight"
    );
}

#[test]
fn canary_rules_come_first_in_order_and_everyone_else_takes_the_split() {
    let canary = Canary {
        rules: vec![
            CanaryRule {
                matcher: RequestMatch::Header {
                    name: "End-User".into(),
                    how: StringMatch::Exact,
                    value: "jason".into(),
                },
                version: "v2".into(),
            },
            CanaryRule {
                matcher: RequestMatch::Cookie {
                    name: "beta".into(),
                    value: "1".into(),
                },
                version: "v3".into(),
            },
        ],
        split: split(&[("v1", 100)]),
    };
    let changes = rendered(&RuleChange::Canary(canary), &[], &[]);
    let vs = applied(&changes, "VirtualService");
    assert_eq!(
        vs["spec"]["http"],
        json!([
            {"name": "meshtui-canary-0",
             "match": [{"headers": {"end-user": {"exact": "jason"}}}],
             "route": [{"destination": {"host": HOST, "subset": "v2"}}]},
            {"name": "meshtui-canary-1",
             "match": [{"headers": {"cookie": {"regex": cookie_regex("beta", "1")}}}],
             "route": [{"destination": {"host": HOST, "subset": "v3"}}]},
            {"name": "meshtui-default",
             "route": [{"destination": {"host": HOST, "subset": "v1"}}]}
        ])
    );
    let dr = applied(&changes, "DestinationRule");
    let subsets: Vec<&str> = dr["spec"]["subsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subsets, ["v1", "v2", "v3"]);
}

#[test]
fn a_cookie_rule_matches_that_cookie_anywhere_in_the_header_and_nothing_else() {
    let regex = regex::Regex::new(&cookie_regex("user", "jason")).unwrap();
    for header in [
        "user=jason",
        "a=1; user=jason",
        "a=1; user=jason; b=2",
        "a=1;user=jason",
    ] {
        assert!(regex.is_match(header), "{header}");
    }
    for header in ["user=jasonx", "xuser=jason", "a=user=jason", "user=json"] {
        assert!(!regex.is_match(header), "{header}");
    }
}

#[test]
fn a_fault_for_some_requests_is_a_first_route_that_goes_where_the_others_go() {
    let fault = Fault {
        delay: Some(Delay {
            fixed: "2s".into(),
            percent: 50.0,
        }),
        abort: Some(Abort {
            http_status: 503,
            percent: 10.0,
        }),
        only: Some(RequestMatch::Header {
            name: "x-test".into(),
            how: StringMatch::Prefix,
            value: "chaos".into(),
        }),
    };
    let changes = rendered(&RuleChange::Fault(fault), &[others_virtual_service()], &[]);
    let http = applied(&changes, "VirtualService")["spec"]["http"].clone();
    assert_eq!(
        http[0],
        json!({
            "name": "meshtui-fault",
            "match": [{"headers": {"x-test": {"prefix": "chaos"}}}],
            "fault": {
                "delay": {"fixedDelay": "2s", "percentage": {"value": 50.0}},
                "abort": {"httpStatus": 503, "percentage": {"value": 10.0}}
            },
            "route": [{"destination": {"host": "reviews", "subset": "v1"}}]
        })
    );
    assert_eq!(http.as_array().unwrap().len(), 3);
}

#[test]
fn a_fault_for_all_requests_and_timeouts_go_on_the_default_route() {
    let fault = Fault {
        delay: None,
        abort: Some(Abort {
            http_status: 500,
            percent: 100.0,
        }),
        only: None,
    };
    let changes = rendered(&RuleChange::Fault(fault), &[others_virtual_service()], &[]);
    let vs = applied(&changes, "VirtualService");
    assert_eq!(
        vs["spec"]["http"][1]["fault"],
        json!({"abort": {"httpStatus": 500, "percentage": {"value": 100.0}}})
    );
    let timeouts = Timeouts {
        timeout: Some("3s".into()),
        attempts: Some(3),
        per_try_timeout: Some("1s".into()),
        retry_on: vec!["5xx".into(), "connect-failure".into()],
    };
    let changes = rendered(&RuleChange::Timeouts(timeouts), &[vs], &[]);
    let route = applied(&changes, "VirtualService")["spec"]["http"][1].clone();
    assert_eq!(route["timeout"], "3s");
    assert_eq!(
        route["retries"],
        json!({"attempts": 3, "perTryTimeout": "1s", "retryOn": "5xx,connect-failure"})
    );
    assert!(route.get("fault").is_some(), "the fault stays");
}

#[test]
fn a_breaker_sets_the_destination_rules_traffic_policy_and_keeps_the_rest() {
    let breaker = Breaker {
        max_connections: Some(1),
        max_pending_requests: Some(1),
        max_requests_per_connection: Some(1),
        consecutive_5xx_errors: Some(1),
        interval: Some("1s".into()),
        base_ejection_time: Some("3m".into()),
        max_ejection_percent: Some(100),
    };
    let changes = rendered(
        &RuleChange::Breaker(breaker),
        &[],
        &[others_destination_rule()],
    );
    assert_eq!(changes.len(), 1, "no VirtualService is needed: {changes:?}");
    let dr = applied(&changes, "DestinationRule");
    assert_eq!(
        dr["spec"]["trafficPolicy"],
        json!({
            "tls": {"mode": "ISTIO_MUTUAL"},
            "connectionPool": {
                "tcp": {"maxConnections": 1},
                "http": {"http1MaxPendingRequests": 1, "maxRequestsPerConnection": 1}
            },
            "outlierDetection": {
                "consecutive5xxErrors": 1, "interval": "1s",
                "baseEjectionTime": "3m", "maxEjectionPercent": 100
            }
        })
    );
}

#[test]
fn reset_removes_meshtuis_routes_and_deletes_what_it_created() {
    let first = rendered(
        &RuleChange::Shift(split(&[("v1", 80), ("v3", 20)])),
        &[],
        &[],
    );
    let (vs, dr) = (
        applied(&first, "VirtualService"),
        applied(&first, "DestinationRule"),
    );
    let changes = rendered(&RuleChange::Reset, &[vs], &[dr]);
    assert_eq!(
        changes,
        vec![ObjectChange::Delete {
            kind: "VirtualService".into(),
            namespace: "bookinfo".into(),
            name: "reviews".into(),
        }],
        "the subsets stay: other rules may name them"
    );

    let mut theirs = others_virtual_service();
    theirs["spec"]["http"]
        .as_array_mut()
        .unwrap()
        .insert(0, json!({"name": "meshtui-canary-0", "route": []}));
    let changes = rendered(&RuleChange::Reset, &[theirs], &[]);
    assert_eq!(changes, vec![ObjectChange::Apply(others_virtual_service())]);
}

/// Every object a form can produce is valid by the schema Istio installs.
#[test]
fn every_rendered_object_validates_against_istios_crd_schema() {
    let schemas = super::CrdSchemas::embedded();
    assert!(!schemas.is_empty());
    let changes = [
        RuleChange::Shift(split(&[("v1", 80), ("v3", 20)])),
        RuleChange::Canary(Canary {
            rules: vec![CanaryRule {
                matcher: RequestMatch::Cookie {
                    name: "user".into(),
                    value: "jason".into(),
                },
                version: "v2".into(),
            }],
            split: split(&[("v1", 100)]),
        }),
        RuleChange::Fault(Fault {
            delay: Some(Delay {
                fixed: "1.5s".into(),
                percent: 12.5,
            }),
            abort: Some(Abort {
                http_status: 503,
                percent: 100.0,
            }),
            only: Some(RequestMatch::Header {
                name: "x-chaos".into(),
                how: StringMatch::Regex,
                value: "^on$".into(),
            }),
        }),
        RuleChange::Breaker(Breaker {
            max_connections: Some(100),
            max_pending_requests: Some(10),
            max_requests_per_connection: Some(1),
            consecutive_5xx_errors: Some(5),
            interval: Some("10s".into()),
            base_ejection_time: Some("30s".into()),
            max_ejection_percent: Some(50),
        }),
        RuleChange::Timeouts(Timeouts {
            timeout: Some("3s".into()),
            attempts: Some(2),
            per_try_timeout: Some("500ms".into()),
            retry_on: vec!["5xx".into(), "reset".into()],
        }),
    ];
    for change in &changes {
        for existing in [vec![], vec![others_virtual_service()]] {
            for object in rendered(change, &existing, &[others_destination_rule()]) {
                let ObjectChange::Apply(object) = object else {
                    continue;
                };
                let verdict = schemas.validate(&object).unwrap();
                assert!(
                    verdict.violations.is_empty() && verdict.unchecked_rules.is_empty(),
                    "{change:?}: {verdict:?}\n{object:#}"
                );
            }
        }
    }
    // And the checks bite: a duration under a millisecond is refused by Istio's CEL rule.
    let too_short = rendered(
        &RuleChange::Timeouts(Timeouts {
            timeout: Some("500us".into()),
            ..Timeouts::default()
        }),
        &[],
        &[],
    );
    let verdict = schemas
        .validate(&applied(&too_short, "VirtualService"))
        .unwrap();
    assert_eq!(
        verdict.violations[0].to_string(),
        "spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms"
    );
}

#[test]
fn an_empty_fault_takes_a_fault_off_and_creates_nothing() {
    let nothing = Fault {
        delay: None,
        abort: None,
        only: None,
    };
    assert_eq!(
        rendered(&RuleChange::Fault(nothing.clone()), &[], &[]),
        vec![]
    );
    let mut faulty = others_virtual_service();
    faulty["spec"]["http"][1]["fault"] =
        json!({"abort": {"httpStatus": 500, "percentage": {"value": 1.0}}});
    let changes = rendered(
        &RuleChange::Fault(nothing),
        &[faulty],
        &[others_destination_rule()],
    );
    assert_eq!(changes, vec![ObjectChange::Apply(others_virtual_service())]);
}

#[test]
fn the_default_route_is_the_last_catch_all_with_a_lone_destination_taking_everything() {
    use crate::mesh::inventory::RouteDestination;
    let destination = |host: &str, subset: Option<&str>, weight| RouteDestination {
        host: host.into(),
        subset: subset.map(str::to_owned),
        weight,
    };
    let cases = [
        (
            "weights after a header route",
            json!({"spec": {"http": [
                {"match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": [{"destination": {"host": "reviews", "subset": "v2"}}]},
                {"route": [
                    {"destination": {"host": "reviews", "subset": "v1"}, "weight": 80},
                    {"destination": {"host": "reviews", "subset": "v3"}, "weight": 20}
                ]}
            ]}}),
            vec![
                destination("reviews", Some("v1"), 80),
                destination("reviews", Some("v3"), 20),
            ],
        ),
        (
            "a lone destination without a weight",
            json!({"spec": {"http": [{"route": [{"destination": {"host": "reviews"}}]}]}}),
            vec![destination("reviews", None, 100)],
        ),
        (
            "only matching routes",
            json!({"spec": {"http": [{"match": [{"uri": {"prefix": "/a"}}], "route": [{"destination": {"host": "reviews"}}]}]}}),
            vec![],
        ),
        ("no http routes", json!({"spec": {"tcp": []}}), vec![]),
    ];
    for (name, vs, want) in cases {
        assert_eq!(default_route(&vs), want, "{name}");
    }
}
