//! Each form's fields read and checked together: a change when everything holds, and
//! every issue found either way (all of them at once, so the user sees them all).

use super::field;
use super::semantic::{split_issues, version_is_routable};
use super::{
    BreakerInput, CanaryInput, FaultInput, Field, FieldIssue, MatchInput, MatchKind, ShiftInput,
    Surroundings, TimeoutsInput, WeightInput,
};
use crate::mesh::rules::analyze::MessageKind;
use crate::mesh::rules::model::{
    Abort, Breaker, Canary, CanaryRule, Delay, Fault, RequestMatch, RuleChange, Split, StringMatch,
    Timeouts,
};

/// A form's result: the change when the fields read (semantic issues may still be listed).
pub type Checked = (Option<RuleChange>, Vec<FieldIssue>);

/// Reads one field, keeping its issue.
fn read<T>(issues: &mut Vec<FieldIssue>, at: Field, result: Result<T, String>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            issues.push(FieldIssue::new(at, message));
            None
        }
    }
}

/// The weights as numbers, or `None` when one does not read (its issue is kept).
fn weights(inputs: &[WeightInput], issues: &mut Vec<FieldIssue>) -> Option<Vec<(String, u32)>> {
    let mut read_all = Some(Vec::with_capacity(inputs.len()));
    for (i, input) in inputs.iter().enumerate() {
        match read(
            issues,
            Field::Weight(i),
            field::integer(&input.text, 0, 100),
        ) {
            Some(weight) => {
                if let Some(all) = &mut read_all {
                    all.push((input.version.clone(), weight));
                }
            }
            None => read_all = None,
        }
    }
    read_all
}

pub fn shift(input: &ShiftInput, around: &Surroundings<'_>) -> Checked {
    let mut issues = Vec::new();
    let Some(weights) = weights(&input.weights, &mut issues) else {
        return (None, issues);
    };
    issues.extend(split_issues(&weights, around));
    (Some(RuleChange::Shift(Split { weights })), issues)
}

/// A request match's name and value; `name` and `value` are where their issues go.
fn request_match(
    input: &MatchInput,
    name_at: Field,
    value_at: Field,
    issues: &mut Vec<FieldIssue>,
) -> Option<RequestMatch> {
    match input.kind {
        MatchKind::Any => Some(RequestMatch::Any),
        MatchKind::Header(how) => {
            let name = read(issues, name_at, field::header_name(&input.name));
            let value = match how {
                StringMatch::Regex => field::regex(&input.value),
                StringMatch::Exact | StringMatch::Prefix => field::header_value(&input.value),
            };
            let value = read(issues, value_at, value);
            Some(RequestMatch::Header {
                name: name?,
                how,
                value: value?,
            })
        }
        MatchKind::Cookie => {
            let name = read(issues, name_at, field::cookie_name(&input.name));
            let value = read(issues, value_at, field::cookie_value(&input.value));
            Some(RequestMatch::Cookie {
                name: name?,
                value: value?,
            })
        }
    }
}

pub fn canary(input: &CanaryInput, around: &Surroundings<'_>) -> Checked {
    let mut issues = Vec::new();
    if input.rules.is_empty() {
        issues.push(FieldIssue::new(
            Field::Form,
            "add a rule: which requests go to which version",
        ));
        return (None, issues);
    }
    let last = input.rules.len() - 1;
    let mut rules = Some(Vec::with_capacity(input.rules.len()));
    for (i, rule) in input.rules.iter().enumerate() {
        if rule.matcher.kind == MatchKind::Any && i != last {
            issues.push(FieldIssue::coded(
                Field::CanaryMatch(i),
                MessageKind::VirtualServiceUnreachableRule.code(),
                "matches every request, so the rules after it are never used: move it last",
            ));
        }
        let matcher = request_match(
            &rule.matcher,
            Field::CanaryName(i),
            Field::CanaryValue(i),
            &mut issues,
        );
        if let Some(issue) = version_is_routable(&rule.version, Field::CanaryVersion(i), around) {
            issues.push(issue);
        }
        let earlier = input.rules[..i]
            .iter()
            .position(|other| other.matcher == rule.matcher && rule.matcher.kind.has_operands());
        if let Some(earlier) = earlier {
            issues.push(FieldIssue::new(
                Field::CanaryMatch(i),
                format!(
                    "the same match as rule {}, which takes these requests first",
                    earlier + 1
                ),
            ));
        }
        match (matcher, &mut rules) {
            (Some(matcher), Some(rules)) => rules.push(CanaryRule {
                matcher,
                version: rule.version.clone(),
            }),
            _ => rules = None,
        }
    }
    // A last rule for every request leaves no one to the weights.
    let split = if input.rules[last].matcher.kind == MatchKind::Any {
        Some(Vec::new())
    } else {
        weights(&input.weights, &mut issues).inspect(|weights| {
            issues.extend(split_issues(weights, around));
        })
    };
    let change = match (rules, split) {
        (Some(rules), Some(weights)) => Some(RuleChange::Canary(Canary {
            rules,
            split: Split { weights },
        })),
        _ => None,
    };
    (change, issues)
}

/// A fault part's two fields: both empty leaves the part out (`Ok(None)`); one without the
/// other, or one that does not read, is an issue (`Err(())`, the issue kept).
fn fault_part<T, A, B>(
    (first, first_at, first_missing): (&str, Field, &str),
    (second, second_at, second_missing): (&str, Field, &str),
    read_first: impl FnOnce(&str) -> Result<A, String>,
    read_second: impl FnOnce(&str) -> Result<B, String>,
    make: impl FnOnce(A, B) -> T,
    issues: &mut Vec<FieldIssue>,
) -> Result<Option<T>, ()> {
    match (first.trim().is_empty(), second.trim().is_empty()) {
        (true, true) => Ok(None),
        // The half that is there is still read, so that its own problem shows too.
        (true, false) => {
            issues.push(FieldIssue::new(first_at, first_missing));
            read(issues, second_at, read_second(second));
            Err(())
        }
        (false, true) => {
            read(issues, first_at, read_first(first));
            issues.push(FieldIssue::new(second_at, second_missing));
            Err(())
        }
        (false, false) => {
            let a = read(issues, first_at, read_first(first));
            let b = read(issues, second_at, read_second(second));
            match (a, b) {
                (Some(a), Some(b)) => Ok(Some(make(a, b))),
                _ => Err(()),
            }
        }
    }
}

pub fn fault(input: &FaultInput) -> Checked {
    let mut issues = Vec::new();
    let delay = fault_part(
        (&input.delay, Field::DelayFixed, "enter the delay, e.g. 2s"),
        (
            &input.delay_percent,
            Field::DelayPercent,
            "enter the share of requests to delay, 0 to 100",
        ),
        field::duration,
        field::percent,
        |fixed, percent| Delay { fixed, percent },
        &mut issues,
    );
    let abort = fault_part(
        (
            &input.abort_status,
            Field::AbortStatus,
            "enter the HTTP status to answer with, e.g. 503",
        ),
        (
            &input.abort_percent,
            Field::AbortPercent,
            "enter the share of requests to abort, 0 to 100",
        ),
        field::http_status,
        field::percent,
        |http_status, percent| Abort {
            http_status,
            percent,
        },
        &mut issues,
    );
    let only = request_match(
        &input.only,
        Field::MatchName,
        Field::MatchValue,
        &mut issues,
    );
    let change = match (delay, abort, only) {
        (Ok(delay), Ok(abort), Some(only)) => Some(RuleChange::Fault(Fault {
            delay,
            abort,
            only: match only {
                RequestMatch::Any => None,
                other => Some(other),
            },
        })),
        _ => None,
    };
    (change, issues)
}

/// The largest value of an `int32` field.
const INT32_MAX: u32 = i32::MAX as u32;

pub fn breaker(input: &BreakerInput) -> Checked {
    let mut issues = Vec::new();
    let mut count = |at: Field, text: &str, min: u32, max: u32| {
        read(&mut issues, at, field::optional_integer(text, min, max))
    };
    let max_connections = count(Field::MaxConnections, &input.max_connections, 1, INT32_MAX);
    let max_pending_requests = count(
        Field::MaxPendingRequests,
        &input.max_pending_requests,
        1,
        INT32_MAX,
    );
    let max_requests_per_connection = count(
        Field::MaxRequestsPerConnection,
        &input.max_requests_per_connection,
        1,
        INT32_MAX,
    );
    let consecutive_5xx_errors = count(
        Field::Consecutive5xxErrors,
        &input.consecutive_5xx_errors,
        0,
        u32::MAX,
    );
    let max_ejection_percent = count(
        Field::MaxEjectionPercent,
        &input.max_ejection_percent,
        0,
        100,
    );
    let interval = read(
        &mut issues,
        Field::Interval,
        field::optional_duration(&input.interval),
    );
    let base_ejection_time = read(
        &mut issues,
        Field::BaseEjectionTime,
        field::optional_duration(&input.base_ejection_time),
    );
    let breaker = (|| {
        Some(Breaker {
            max_connections: max_connections?,
            max_pending_requests: max_pending_requests?,
            max_requests_per_connection: max_requests_per_connection?,
            consecutive_5xx_errors: consecutive_5xx_errors?,
            interval: interval?,
            base_ejection_time: base_ejection_time?,
            max_ejection_percent: max_ejection_percent?,
        })
    })();
    if breaker.as_ref().is_some_and(|b| *b == Breaker::default()) {
        issues.push(FieldIssue::new(
            Field::Form,
            "fill in at least one limit: empty fields leave a setting as it is",
        ));
    }
    (breaker.map(RuleChange::Breaker), issues)
}

pub fn timeouts(input: &TimeoutsInput) -> Checked {
    let mut issues = Vec::new();
    let timeout = read(
        &mut issues,
        Field::Timeout,
        field::optional_duration(&input.timeout),
    );
    let attempts = read(
        &mut issues,
        Field::Attempts,
        field::optional_integer(&input.attempts, 0, INT32_MAX),
    );
    let per_try_timeout = read(
        &mut issues,
        Field::PerTryTimeout,
        field::optional_duration(&input.per_try_timeout),
    );
    let retry_on = read(
        &mut issues,
        Field::RetryOn,
        field::retry_on(&input.retry_on),
    );
    let retries_asked = per_try_timeout.as_ref().is_some_and(Option::is_some)
        || retry_on.as_ref().is_some_and(|r| !r.is_empty());
    // Istio reads no attempts as 0, which turns retries off.
    if retries_asked && matches!(attempts, Some(None | Some(0))) {
        issues.push(FieldIssue::new(
            Field::Attempts,
            "enter how many times to retry: without attempts there are no retries",
        ));
    }
    let change = (|| {
        Some(RuleChange::Timeouts(Timeouts {
            timeout: timeout?,
            attempts: attempts?,
            per_try_timeout: per_try_timeout?,
            retry_on: retry_on?,
        }))
    })();
    (change, issues)
}
