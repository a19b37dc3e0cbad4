//! A rule form's input checked before anything is rendered or sent: the field layer (what
//! was typed, read as numbers, durations, percentages, names, regexes) and the semantic
//! layer (weights summing to 100, versions that exist and have pods, a match-all canary
//! rule only last, conflicting VirtualServices), with istioctl's codes where one exists.
//! Every issue names the form field it belongs to, so it is shown next to that field.

pub mod field;
mod forms;
mod semantic;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::model::{RuleChange, StringMatch, Target, Version};

/// Where an issue is shown. Indexes count from 0 in the form's own lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The form as a whole (e.g. other objects conflict with it).
    Form,
    /// The weight of the n-th version.
    Weight(usize),
    /// The weights together (their sum).
    Weights,
    /// The n-th canary rule: how it matches, the header or cookie name, the value, the version.
    CanaryMatch(usize),
    CanaryName(usize),
    CanaryValue(usize),
    CanaryVersion(usize),
    DelayFixed,
    DelayPercent,
    AbortStatus,
    AbortPercent,
    /// The fault's optional request match: how it matches, the name, the value.
    FaultMatch,
    MatchName,
    MatchValue,
    MaxConnections,
    MaxPendingRequests,
    MaxRequestsPerConnection,
    Consecutive5xxErrors,
    Interval,
    BaseEjectionTime,
    MaxEjectionPercent,
    Timeout,
    Attempts,
    PerTryTimeout,
    RetryOn,
}

/// One reason the form cannot be applied as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: Field,
    pub message: String,
    /// istioctl's message code when the issue is one its analyzers report (`IST0173`).
    pub code: Option<&'static str>,
}

impl FieldIssue {
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        FieldIssue {
            field,
            message: message.into(),
            code: None,
        }
    }

    pub fn coded(field: Field, code: &'static str, message: impl Into<String>) -> Self {
        FieldIssue {
            field,
            message: message.into(),
            code: Some(code),
        }
    }
}

impl std::fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Which requests a canary rule or a fault takes, as chosen in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Header(StringMatch),
    Cookie,
    /// Every request.
    Any,
}

impl MatchKind {
    /// In the order the form cycles through them.
    pub const ALL: [MatchKind; 5] = [
        MatchKind::Header(StringMatch::Exact),
        MatchKind::Header(StringMatch::Prefix),
        MatchKind::Header(StringMatch::Regex),
        MatchKind::Cookie,
        MatchKind::Any,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MatchKind::Header(StringMatch::Exact) => "header exact",
            MatchKind::Header(StringMatch::Prefix) => "header prefix",
            MatchKind::Header(StringMatch::Regex) => "header regex",
            MatchKind::Cookie => "cookie",
            MatchKind::Any => "every request",
        }
    }

    /// Whether the kind needs a name and a value.
    pub fn has_operands(self) -> bool {
        self != MatchKind::Any
    }
}

/// A request match as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchInput {
    pub kind: MatchKind,
    pub name: String,
    pub value: String,
}

impl MatchInput {
    pub fn any() -> Self {
        MatchInput {
            kind: MatchKind::Any,
            name: String::new(),
            value: String::new(),
        }
    }
}

/// A version's weight as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightInput {
    pub version: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftInput {
    pub weights: Vec<WeightInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryRuleInput {
    pub matcher: MatchInput,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryInput {
    pub rules: Vec<CanaryRuleInput>,
    /// Where everyone else goes.
    pub weights: Vec<WeightInput>,
}

/// Empty delay or abort fields leave that fault out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultInput {
    pub delay: String,
    pub delay_percent: String,
    pub abort_status: String,
    pub abort_percent: String,
    /// `MatchKind::Any`: every request.
    pub only: MatchInput,
}

/// Empty fields leave that setting as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BreakerInput {
    pub max_connections: String,
    pub max_pending_requests: String,
    pub max_requests_per_connection: String,
    pub consecutive_5xx_errors: String,
    pub interval: String,
    pub base_ejection_time: String,
    pub max_ejection_percent: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeoutsInput {
    pub timeout: String,
    pub attempts: String,
    pub per_try_timeout: String,
    /// Comma-separated, e.g. `5xx,connect-failure`.
    pub retry_on: String,
}

/// What a form holds when the user asks to apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormInput {
    Shift(ShiftInput),
    Canary(CanaryInput),
    Fault(FaultInput),
    Breaker(BreakerInput),
    Timeouts(TimeoutsInput),
    Reset,
}

/// One version of the service with the number of pods it has (`None`: not known, e.g.
/// without Kubernetes access), so that a subset selecting no pods is caught.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceVersion {
    pub version: Version,
    pub pods: Option<u32>,
}

/// What the form is checked against: the service, its versions, and the routing objects
/// that exist now (full objects, or at least kind, metadata and `spec.hosts`).
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    pub target: &'a Target,
    pub versions: &'a [ServiceVersion],
    pub virtual_services: &'a [Value],
    pub destination_rules: &'a [Value],
}

/// The rule the form asks for, or every reason it can't be applied, each with its field.
pub fn check(input: &FormInput, around: &Surroundings<'_>) -> Result<RuleChange, Vec<FieldIssue>> {
    let (change, mut issues) = match input {
        FormInput::Shift(shift) => forms::shift(shift, around),
        FormInput::Canary(canary) => forms::canary(canary, around),
        FormInput::Fault(fault) => forms::fault(fault),
        FormInput::Breaker(breaker) => forms::breaker(breaker),
        FormInput::Timeouts(timeouts) => forms::timeouts(timeouts),
        FormInput::Reset => (Some(RuleChange::Reset), Vec::new()),
    };
    match change {
        Some(change) if issues.is_empty() => {
            issues.extend(semantic::conflicting_virtual_services(&change, around));
            if issues.is_empty() {
                Ok(change)
            } else {
                Err(issues)
            }
        }
        _ => {
            if issues.is_empty() {
                // Every path that yields no change says why; this keeps that promise.
                issues.push(FieldIssue::new(Field::Form, "the form is incomplete"));
            }
            Err(issues)
        }
    }
}
