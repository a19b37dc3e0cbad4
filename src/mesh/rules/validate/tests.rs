use serde_json::{json, Value};

use super::*;
use crate::mesh::rules::model::{
    Abort, Breaker, Canary, CanaryRule, Delay, Fault, RequestMatch, Split, Timeouts,
};

fn reviews() -> Target {
    Target {
        namespace: "bookinfo".into(),
        service: "reviews".into(),
    }
}

/// v1 to v3 run pods; v4 is scaled to zero.
fn versions() -> Vec<ServiceVersion> {
    [("v1", 2), ("v2", 1), ("v3", 2), ("v4", 0)]
        .iter()
        .map(|(name, pods)| ServiceVersion {
            version: Version::new(name, "version"),
            pods: Some(*pods),
        })
        .collect()
}

fn checked(input: &FormInput, vss: &[Value]) -> Result<RuleChange, Vec<FieldIssue>> {
    let target = reviews();
    let versions = versions();
    check(
        input,
        &Surroundings {
            target: &target,
            versions: &versions,
            virtual_services: vss,
            destination_rules: &[],
        },
    )
}

fn weights(pairs: &[(&str, &str)]) -> Vec<WeightInput> {
    pairs
        .iter()
        .map(|(version, text)| WeightInput {
            version: version.to_string(),
            text: text.to_string(),
        })
        .collect()
}

fn shift(pairs: &[(&str, &str)]) -> FormInput {
    FormInput::Shift(ShiftInput {
        weights: weights(pairs),
    })
}

fn header(how: StringMatch, name: &str, value: &str) -> MatchInput {
    MatchInput {
        kind: MatchKind::Header(how),
        name: name.into(),
        value: value.into(),
    }
}

fn rule(matcher: MatchInput, version: &str) -> CanaryRuleInput {
    CanaryRuleInput {
        matcher,
        version: version.into(),
    }
}

fn fault(delay: (&str, &str), abort: (&str, &str), only: MatchInput) -> FormInput {
    FormInput::Fault(FaultInput {
        delay: delay.0.into(),
        delay_percent: delay.1.into(),
        abort_status: abort.0.into(),
        abort_percent: abort.1.into(),
        only,
    })
}

/// (field, code, a piece of the message) of each issue.
fn issues(
    result: Result<RuleChange, Vec<FieldIssue>>,
) -> Vec<(Field, Option<&'static str>, String)> {
    result
        .expect_err("the input is refused")
        .into_iter()
        .map(|i| (i.field, i.code, i.message))
        .collect()
}

/// A named input and the issues expected: (field, code, a piece of the message).
type Case = (
    &'static str,
    FormInput,
    Vec<(Field, Option<&'static str>, &'static str)>,
);

fn assert_refused(name: &str, input: FormInput, want: &[(Field, Option<&str>, &str)]) {
    let got = issues(checked(&input, &[]));
    assert_eq!(got.len(), want.len(), "{name}: {got:?}");
    for ((field, code, message), (want_field, want_code, piece)) in got.iter().zip(want) {
        assert_eq!(field, want_field, "{name}: {got:?}");
        assert_eq!(code.as_deref(), *want_code, "{name}: {got:?}");
        assert!(
            message.contains(piece),
            "{name}: {message:?} says {piece:?}"
        );
    }
}

#[test]
fn a_shift_whose_weights_add_up_to_100_becomes_a_split() {
    assert_eq!(
        checked(&shift(&[("v1", "80"), ("v2", "0"), ("v3", " 20 ")]), &[]),
        Ok(RuleChange::Shift(Split {
            weights: vec![("v1".into(), 80), ("v2".into(), 0), ("v3".into(), 20)]
        }))
    );
}

#[test]
fn shifts_that_would_route_badly_are_refused_at_their_field() {
    use Field::*;
    let cases: [Case; 6] = [
        (
            "weights adding up to 90",
            shift(&[("v1", "80"), ("v3", "10")]),
            vec![(Weights, None, "add up to 90; they must add up to 100")],
        ),
        (
            "a weight that is not a number",
            shift(&[("v1", "eighty"), ("v3", "20")]),
            vec![(Weight(0), None, "not a whole number")],
        ),
        (
            "a weight above 100",
            shift(&[("v1", "120"), ("v3", "0")]),
            vec![(Weight(0), None, "between 0 and 100")],
        ),
        (
            "a version without pods",
            shift(&[("v1", "50"), ("v4", "50")]),
            vec![(
                Weight(1),
                Some("IST0173"),
                "The Subset v4 defined in the DestinationRule does not select any pods",
            )],
        ),
        (
            "a version the service does not have",
            shift(&[("v1", "50"), ("v9", "50")]),
            vec![(
                Weight(1),
                Some("IST0101"),
                "Referenced host+subset in destinationrule not found: \"reviews+v9\"",
            )],
        ),
        (
            "the same destination twice",
            shift(&[("v1", "50"), ("v1", "50")]),
            vec![(Weight(1), None, "v1 is listed twice")],
        ),
    ];
    for (name, input, want) in cases {
        assert_refused(name, input, &want);
    }
}

#[test]
fn a_version_without_pods_may_keep_a_weight_of_zero() {
    assert!(checked(&shift(&[("v1", "100"), ("v4", "0")]), &[]).is_ok());
}

#[test]
fn canary_rules_become_ordered_matches_and_everyone_else_takes_the_weights() {
    let input = FormInput::Canary(CanaryInput {
        rules: vec![
            rule(header(StringMatch::Exact, "End-User", "jason"), "v2"),
            rule(
                MatchInput {
                    kind: MatchKind::Cookie,
                    name: "beta".into(),
                    value: "yes".into(),
                },
                "v3",
            ),
        ],
        weights: weights(&[("v1", "100"), ("v2", "0"), ("v3", "0")]),
    });
    assert_eq!(
        checked(&input, &[]),
        Ok(RuleChange::Canary(Canary {
            rules: vec![
                CanaryRule {
                    matcher: RequestMatch::Header {
                        name: "End-User".into(),
                        how: StringMatch::Exact,
                        value: "jason".into()
                    },
                    version: "v2".into()
                },
                CanaryRule {
                    matcher: RequestMatch::Cookie {
                        name: "beta".into(),
                        value: "yes".into()
                    },
                    version: "v3".into()
                },
            ],
            split: Split {
                weights: vec![("v1".into(), 100), ("v2".into(), 0), ("v3".into(), 0)]
            }
        }))
    );
}

#[test]
fn canary_rules_that_cannot_work_are_refused_at_their_field() {
    use Field::*;
    let split = || weights(&[("v1", "100")]);
    let canary = |rules: Vec<CanaryRuleInput>| {
        FormInput::Canary(CanaryInput {
            rules,
            weights: split(),
        })
    };
    let cases: [Case; 6] = [
        (
            "a match-all rule before another",
            canary(vec![
                rule(MatchInput::any(), "v2"),
                rule(header(StringMatch::Exact, "x-user", "a"), "v3"),
            ]),
            vec![(CanaryMatch(0), Some("IST0130"), "move it last")],
        ),
        (
            "a regex that does not compile",
            canary(vec![rule(
                header(StringMatch::Regex, "x-user", "(jason"),
                "v2",
            )]),
            vec![(CanaryValue(0), None, "not a regular expression")],
        ),
        (
            "a header name with a colon",
            canary(vec![rule(header(StringMatch::Prefix, "x:user", "a"), "v2")]),
            vec![(CanaryName(0), None, "':' cannot be in a header name")],
        ),
        (
            "the same match twice",
            canary(vec![
                rule(header(StringMatch::Exact, "x-user", "a"), "v2"),
                rule(header(StringMatch::Exact, "x-user", "a"), "v3"),
            ]),
            vec![(CanaryMatch(1), None, "the same match as rule 1")],
        ),
        (
            "a rule to a version without pods",
            canary(vec![rule(header(StringMatch::Exact, "x-user", "a"), "v4")]),
            vec![(
                CanaryVersion(0),
                Some("IST0173"),
                "does not select any pods",
            )],
        ),
        (
            "no rules at all",
            canary(vec![]),
            vec![(Form, None, "add a rule")],
        ),
    ];
    for (name, input, want) in cases {
        assert_refused(name, input, &want);
    }
}

#[test]
fn a_last_rule_for_every_request_needs_no_weights() {
    let input = FormInput::Canary(CanaryInput {
        rules: vec![
            rule(header(StringMatch::Exact, "x-user", "a"), "v2"),
            rule(MatchInput::any(), "v3"),
        ],
        weights: weights(&[("v1", "not read")]),
    });
    assert!(checked(&input, &[]).is_ok());
}

#[test]
fn a_fault_reads_its_delay_and_abort_with_their_percentages() {
    assert_eq!(
        checked(
            &fault(
                ("1.5s", "10"),
                ("503", "0.5"),
                header(StringMatch::Exact, "x-test", "1")
            ),
            &[]
        ),
        Ok(RuleChange::Fault(Fault {
            delay: Some(Delay {
                fixed: "1.5s".into(),
                percent: 10.0
            }),
            abort: Some(Abort {
                http_status: 503,
                percent: 0.5
            }),
            only: Some(RequestMatch::Header {
                name: "x-test".into(),
                how: StringMatch::Exact,
                value: "1".into()
            }),
        }))
    );
}

#[test]
fn a_fault_without_its_percentage_or_with_bad_values_is_refused() {
    use Field::*;
    let cases: [Case; 5] = [
        (
            "a delay with no percentage",
            fault(("2s", ""), ("", ""), MatchInput::any()),
            vec![(DelayPercent, None, "share of requests to delay")],
        ),
        (
            "a percentage with no abort status",
            fault(("", ""), ("", "10"), MatchInput::any()),
            vec![(AbortStatus, None, "HTTP status to answer with")],
        ),
        (
            "a delay below 1ms",
            fault(("500us", "10"), ("", ""), MatchInput::any()),
            vec![(DelayFixed, None, "at least 1ms")],
        ),
        (
            "an abort with status 600 for 101%",
            fault(("", ""), ("600", "101"), MatchInput::any()),
            vec![
                (AbortStatus, None, "from 100 to 599"),
                (AbortPercent, None, "from 0 to 100"),
            ],
        ),
        (
            "a cookie match without a value",
            fault(
                ("1s", "100"),
                ("", ""),
                MatchInput {
                    kind: MatchKind::Cookie,
                    name: "user".into(),
                    value: String::new(),
                },
            ),
            vec![(MatchValue, None, "enter the cookie's value")],
        ),
    ];
    for (name, input, want) in cases {
        assert_refused(name, input, &want);
    }
}

#[test]
fn breaker_and_timeout_fields_read_or_are_refused() {
    let breaker = BreakerInput {
        max_connections: "100".into(),
        consecutive_5xx_errors: "5".into(),
        interval: "10s".into(),
        base_ejection_time: "30s".into(),
        max_ejection_percent: "50".into(),
        ..BreakerInput::default()
    };
    assert_eq!(
        checked(&FormInput::Breaker(breaker.clone()), &[]),
        Ok(RuleChange::Breaker(Breaker {
            max_connections: Some(100),
            consecutive_5xx_errors: Some(5),
            interval: Some("10s".into()),
            base_ejection_time: Some("30s".into()),
            max_ejection_percent: Some(50),
            ..Breaker::default()
        }))
    );
    use Field::*;
    let cases: [Case; 5] = [
        (
            "no limits at all",
            FormInput::Breaker(BreakerInput::default()),
            vec![(Form, None, "at least one limit")],
        ),
        (
            "an ejection share above 100 and an interval without unit",
            FormInput::Breaker(BreakerInput {
                max_ejection_percent: "150".into(),
                interval: "10".into(),
                ..breaker
            }),
            vec![
                (MaxEjectionPercent, None, "between 0 and 100"),
                (Interval, None, "not a duration"),
            ],
        ),
        (
            "zero connections",
            FormInput::Breaker(BreakerInput {
                max_connections: "0".into(),
                ..BreakerInput::default()
            }),
            vec![(MaxConnections, None, "between 1 and 2147483647")],
        ),
        (
            "retry conditions without attempts",
            FormInput::Timeouts(TimeoutsInput {
                retry_on: "5xx".into(),
                ..TimeoutsInput::default()
            }),
            vec![(Attempts, None, "without attempts there are no retries")],
        ),
        (
            "an unknown retry condition",
            FormInput::Timeouts(TimeoutsInput {
                attempts: "3".into(),
                retry_on: "5xx,on-tuesdays".into(),
                ..TimeoutsInput::default()
            }),
            vec![(RetryOn, None, "\"on-tuesdays\" is not a retry condition")],
        ),
    ];
    for (name, input, want) in cases {
        assert_refused(name, input, &want);
    }
    assert_eq!(
        checked(
            &FormInput::Timeouts(TimeoutsInput {
                timeout: "10s".into(),
                attempts: "3".into(),
                per_try_timeout: "2s".into(),
                retry_on: "5xx,connect-failure".into(),
            }),
            &[]
        ),
        Ok(RuleChange::Timeouts(Timeouts {
            timeout: Some("10s".into()),
            attempts: Some(3),
            per_try_timeout: Some("2s".into()),
            retry_on: vec!["5xx".into(), "connect-failure".into()],
        }))
    );
}

fn virtual_service(name: &str, host: &str, managed: bool) -> Value {
    let mut vs = json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": "bookinfo"},
        "spec": {"hosts": [host], "http": [{"route": [{"destination": {"host": host}}]}]}
    });
    if managed {
        vs["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "meshtui"});
    }
    vs
}

#[test]
fn a_second_virtual_service_for_the_host_is_istioctls_conflict() {
    let existing = [
        virtual_service("reviews", "reviews", true),
        virtual_service(
            "reviews-canary",
            "reviews.bookinfo.svc.cluster.local",
            false,
        ),
    ];
    let got = issues(checked(&shift(&[("v1", "100")]), &existing));
    assert_eq!(got.len(), 1, "{got:?}");
    let (field, code, message) = &got[0];
    assert_eq!((*field, *code), (Field::Form, Some("IST0109")));
    assert!(
        message.contains("bookinfo/reviews,bookinfo/reviews-canary")
            && message.contains("define the same host"),
        "{message}"
    );
}

#[test]
fn one_virtual_service_for_the_host_is_edited_without_a_conflict() {
    let existing = [
        virtual_service("reviews", "reviews", false),
        virtual_service("ratings", "ratings", false),
    ];
    assert!(checked(&shift(&[("v1", "100")]), &existing).is_ok());
    assert!(checked(&FormInput::Reset, &existing).is_ok());
}

#[test]
fn every_issue_shows_its_code_before_its_message() {
    let issue = FieldIssue::coded(Field::Weight(0), "IST0173", "no pods");
    assert_eq!(issue.to_string(), "IST0173: no pods");
    assert_eq!(FieldIssue::new(Field::Form, "plain").to_string(), "plain");
}
