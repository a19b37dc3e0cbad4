//! Properties over random form input: what the checks let through always renders to
//! objects Istio's CRD schemas accept, with weights adding up to 100; what they refuse is
//! always refused with a message, never turned into a change.

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::mesh::rules::render::{render, Existing, ObjectChange};
use crate::mesh::rules::CrdSchemas;

const VERSIONS: [&str; 3] = ["v1", "v2", "v3"];

fn target() -> Target {
    Target {
        namespace: "bookinfo".into(),
        service: "reviews".into(),
    }
}

fn service_versions() -> Vec<ServiceVersion> {
    VERSIONS
        .iter()
        .map(|v| ServiceVersion {
            version: Version::new(v, "version"),
            pods: Some(1),
        })
        .collect()
}

fn run_check(input: &FormInput) -> Result<RuleChange, Vec<FieldIssue>> {
    let target = target();
    let versions = service_versions();
    check(
        input,
        &Surroundings {
            target: &target,
            versions: &versions,
            virtual_services: &[],
            destination_rules: &[],
        },
    )
}

/// Whole weights for `n` versions adding up to 100.
fn weights_of_100(n: usize) -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(0u32..=100, n.saturating_sub(1)).prop_map(|mut cuts| {
        cuts.sort_unstable();
        let mut weights = Vec::with_capacity(cuts.len() + 1);
        let mut previous = 0;
        for cut in cuts {
            weights.push(cut - previous);
            previous = cut;
        }
        weights.push(100 - previous);
        weights
    })
}

/// Typed the way people type: sometimes with spaces around.
fn typed(text: String) -> impl Strategy<Value = String> {
    prop_oneof![Just(text.clone()), Just(format!(" {text} "))]
}

fn split_input() -> impl Strategy<Value = Vec<WeightInput>> {
    (1..=VERSIONS.len())
        .prop_flat_map(|n| (Just(n), weights_of_100(n)))
        .prop_map(|(n, weights)| {
            VERSIONS[..n]
                .iter()
                .zip(weights)
                .map(|(version, weight)| WeightInput {
                    version: version.to_string(),
                    text: weight.to_string(),
                })
                .collect()
        })
}

fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..100_000).prop_map(|n| format!("{n}ms")),
        (1u32..3600).prop_map(|n| format!("{n}s")),
        (1u32..100, 1u32..10).prop_map(|(a, b)| format!("{a}.{b}s")),
        (1u32..60, 0u32..60).prop_map(|(m, s)| format!("{m}m{s}s")),
        (1u32..24).prop_map(|h| format!("{h}h")),
    ]
}

fn percent_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=100).prop_map(|n| n.to_string()),
        (0u32..100, 0u32..100).prop_map(|(n, d)| format!("{n}.{d:02}")),
        (0u32..=100).prop_map(|n| format!("{n}%")),
    ]
}

/// What a match compares against: for a regex, one that compiles, built from the value.
fn operand(kind: MatchKind, value: &str) -> String {
    match kind {
        MatchKind::Header(StringMatch::Regex) => format!("^{}.*$", regex::escape(value)),
        _ => value.to_owned(),
    }
}

/// A header or cookie match; `unique` makes its value unlike any other's.
fn match_input(unique: usize) -> impl Strategy<Value = MatchInput> {
    let kinds = prop::sample::select(&MatchKind::ALL[..4]);
    (kinds, "x-[a-z0-9-]{0,12}", "[a-zA-Z0-9._-]{1,12}").prop_map(move |(kind, name, value)| {
        MatchInput {
            kind,
            name,
            value: operand(kind, &format!("{value}-{unique}")),
        }
    })
}

fn canary_input() -> impl Strategy<Value = FormInput> {
    let rules = (1usize..4).prop_flat_map(|n| {
        (0..n)
            .map(|i| (match_input(i), prop::sample::select(&VERSIONS[..])))
            .collect::<Vec<_>>()
    });
    (
        rules,
        any::<bool>(),
        prop::sample::select(&VERSIONS[..]),
        split_input(),
    )
        .prop_map(|(rules, catch_all, last_version, weights)| {
            let mut rules: Vec<CanaryRuleInput> = rules
                .into_iter()
                .map(|(matcher, version)| CanaryRuleInput {
                    matcher,
                    version: version.to_string(),
                })
                .collect();
            if catch_all {
                rules.push(CanaryRuleInput {
                    matcher: MatchInput::any(),
                    version: last_version.to_string(),
                });
            }
            FormInput::Canary(CanaryInput { rules, weights })
        })
}

fn optional<S: Strategy<Value = String>>(strategy: S) -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), strategy]
}

fn fault_input() -> impl Strategy<Value = FormInput> {
    let delay = optional((duration_text(), percent_text()).prop_map(|(d, p)| format!("{d}|{p}")));
    let abort = optional((100u32..=599, percent_text()).prop_map(|(s, p)| format!("{s}|{p}")));
    let only = prop_oneof![Just(MatchInput::any()), match_input(0)];
    (delay, abort, only).prop_map(|(delay, abort, only)| {
        let halves = |text: &str| {
            let (a, b) = text.split_once('|').unwrap_or_default();
            (a.to_owned(), b.to_owned())
        };
        let (delay, delay_percent) = halves(&delay);
        let (abort_status, abort_percent) = halves(&abort);
        FormInput::Fault(FaultInput {
            delay,
            delay_percent,
            abort_status,
            abort_percent,
            only,
        })
    })
}

fn count(min: u32, max: u32) -> impl Strategy<Value = String> {
    (min..=max).prop_map(|n| n.to_string())
}

fn breaker_input() -> impl Strategy<Value = FormInput> {
    (
        count(1, 100_000),
        optional(count(1, i32::MAX as u32)),
        optional(count(1, 1000)),
        optional(count(0, 100)),
        optional(duration_text()),
        optional(duration_text()),
        optional(count(0, 100)),
    )
        .prop_map(|(a, b, c, d, e, f, g)| {
            FormInput::Breaker(BreakerInput {
                max_connections: a,
                max_pending_requests: b,
                max_requests_per_connection: c,
                consecutive_5xx_errors: d,
                interval: e,
                base_ejection_time: f,
                max_ejection_percent: g,
            })
        })
}

fn timeouts_input() -> impl Strategy<Value = FormInput> {
    let conditions =
        prop::collection::vec(prop::sample::select(&field::RETRY_CONDITIONS[..]), 0..4);
    (
        optional(duration_text()),
        count(1, 10),
        optional(duration_text()),
        conditions,
    )
        .prop_map(|(timeout, attempts, per_try_timeout, conditions)| {
            FormInput::Timeouts(TimeoutsInput {
                timeout,
                attempts,
                per_try_timeout,
                retry_on: conditions.join(","),
            })
        })
}

fn shift_input() -> impl Strategy<Value = FormInput> {
    split_input()
        .prop_flat_map(|weights| {
            let texts: Vec<_> = weights.iter().map(|w| typed(w.text.clone())).collect();
            (Just(weights), texts)
        })
        .prop_map(|(mut weights, texts)| {
            for (weight, text) in weights.iter_mut().zip(texts) {
                weight.text = text;
            }
            FormInput::Shift(ShiftInput { weights })
        })
}

fn valid_input() -> impl Strategy<Value = FormInput> {
    prop_oneof![
        shift_input(),
        canary_input(),
        fault_input(),
        breaker_input(),
        timeouts_input(),
        Just(FormInput::Reset),
    ]
}

/// Routes with several destinations: their weights must add up to 100.
fn route_weights(vs: &Value) -> Vec<u64> {
    vs.pointer("/spec/http")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|route| route.get("route").and_then(Value::as_array))
        .filter(|destinations| destinations.len() > 1)
        .map(|destinations| {
            destinations
                .iter()
                .filter_map(|d| d.get("weight").and_then(Value::as_u64))
                .sum()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_form_input_always_renders_to_schema_valid_objects_with_weights_of_100(input in valid_input()) {
        let change = run_check(&input);
        prop_assert!(change.is_ok(), "{input:?} was refused: {change:?}");
        let Ok(change) = change else { unreachable!() };
        let versions: Vec<Version> = service_versions().into_iter().map(|v| v.version).collect();
        let objects = render(&target(), &versions, &change, Existing { virtual_services: &[], destination_rules: &[] });
        for object in objects {
            let ObjectChange::Apply(object) = object else { continue };
            let verdict = CrdSchemas::embedded().validate(&object);
            prop_assert!(verdict.as_ref().is_ok_and(|v| v.violations.is_empty()),
                "{object:#} from {input:?}: {verdict:?}");
            for total in route_weights(&object) {
                prop_assert_eq!(total, 100, "{:#}", object);
            }
        }
    }

    #[test]
    fn invalid_form_input_is_always_refused_with_a_message(input in valid_input(), bad in bad_value(), at in any::<prop::sample::Index>()) {
        let Some(spoilt) = spoil(&input, &bad, at) else { return Ok(()) };
        let result = run_check(&spoilt);
        prop_assert!(result.is_err(), "{spoilt:?} became {result:?}");
        let Err(issues) = result else { unreachable!() };
        prop_assert!(!issues.is_empty());
        prop_assert!(issues.iter().all(|i| !i.message.trim().is_empty()), "{issues:?}");
    }
}

/// Text no field of its kind accepts.
#[derive(Debug, Clone)]
struct BadValue {
    number: String,
    duration: String,
    percent: String,
    status: String,
    name: String,
    regex: String,
}

fn bad_value() -> impl Strategy<Value = BadValue> {
    (
        prop_oneof![
            Just("-1".to_owned()),
            Just("1e3".to_owned()),
            Just("ten".to_owned()),
            (101u32..1000).prop_map(|n| n.to_string())
        ],
        prop_oneof![
            Just("5".to_owned()),
            Just("0.5ms".to_owned()),
            Just("10 s".to_owned()),
            Just("2x".to_owned()),
            Just("-1s".to_owned())
        ],
        prop_oneof![
            Just("100.5".to_owned()),
            Just("-3".to_owned()),
            Just("NaN".to_owned()),
            Just("1/2".to_owned()),
            Just("inf".to_owned())
        ],
        prop_oneof![
            (0u32..100).prop_map(|n| n.to_string()),
            (600u32..100_000).prop_map(|n| n.to_string()),
            Just("5xx".to_owned())
        ],
        prop_oneof![
            Just("x user".to_owned()),
            Just("x:user".to_owned()),
            Just("naïve".to_owned()),
            Just("a\"b".to_owned())
        ],
        prop_oneof![
            Just("(v1".to_owned()),
            Just("[a-".to_owned()),
            Just("a{2,1}".to_owned()),
            Just("*x".to_owned())
        ],
    )
        .prop_map(
            |(number, duration, percent, status, name, regex)| BadValue {
                number,
                duration,
                percent,
                status,
                name,
                regex,
            },
        )
}

/// The input with one field spoilt; `None` when the form has no field to spoil.
fn spoil(input: &FormInput, bad: &BadValue, at: prop::sample::Index) -> Option<FormInput> {
    let mut spoilt = input.clone();
    match &mut spoilt {
        FormInput::Shift(shift) => {
            let i = at.index(shift.weights.len());
            let weight = &mut shift.weights[i].text;
            *weight = if at.index(2) == 0 {
                bad.number.clone()
            } else {
                // A number that reads, but the weights no longer add up to 100.
                match weight.trim().parse::<u32>() {
                    Ok(100) => "99".into(),
                    Ok(n) => (n + 1).to_string(),
                    Err(_) => bad.number.clone(),
                }
            };
        }
        FormInput::Canary(canary) => {
            let i = at.index(canary.rules.len());
            let several = canary.rules.len() > 1;
            let rule = &mut canary.rules[i];
            match rule.matcher.kind {
                MatchKind::Header(StringMatch::Regex) => rule.matcher.value = bad.regex.clone(),
                MatchKind::Header(_) | MatchKind::Cookie => rule.matcher.name = bad.name.clone(),
                // A catch-all rule moved first, with rules after it.
                MatchKind::Any if several => {
                    let rule = canary.rules.remove(i);
                    canary.rules.insert(0, rule);
                }
                MatchKind::Any => rule.version = "v9".into(),
            }
        }
        FormInput::Fault(fault) => match at.index(4) {
            0 => {
                fault.delay = bad.duration.clone();
                fault.delay_percent = "10".into();
            }
            1 => {
                fault.delay = "1s".into();
                fault.delay_percent = bad.percent.clone();
            }
            2 => {
                fault.abort_status = bad.status.clone();
                fault.abort_percent = "10".into();
            }
            _ => {
                // One half of a fault without the other.
                fault.abort_status = "503".into();
                fault.abort_percent = String::new();
            }
        },
        FormInput::Breaker(breaker) => match at.index(3) {
            0 => breaker.max_ejection_percent = bad.number.clone(),
            1 => breaker.interval = bad.duration.clone(),
            _ => breaker.max_connections = "0".into(),
        },
        FormInput::Timeouts(timeouts) => match at.index(3) {
            0 => timeouts.timeout = bad.duration.clone(),
            1 => timeouts.attempts = "-2".into(),
            _ => timeouts.retry_on = format!("5xx,{}", bad.name),
        },
        FormInput::Reset => return None,
    }
    Some(spoilt)
}
