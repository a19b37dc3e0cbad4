//! The words of a form: its introduction, each row's label and hint, and line wrapping.

use unicode_width::UnicodeWidthStr;

use crate::app::forms::{Draft, FormKind, FormState};
use crate::mesh::rules::model::StringMatch;
use crate::mesh::rules::validate::{Field, MatchKind};

pub fn intro(kind: FormKind) -> &'static str {
    match kind {
        FormKind::Shift => "A weight per version, adding up to 100. The others balance as one moves.",
        FormKind::Canary => "The first rule a request matches sends it to its version; everyone else goes by weight.",
        FormKind::Fault => "Delay and/or abort requests to test how callers cope. Empty fields leave that part out.",
        FormKind::Breaker => "Connection pool limits and outlier detection. Empty fields leave a setting as it is.",
        FormKind::Timeouts => "How long a request may take, and how it is retried. Empty fields remove the setting.",
        FormKind::Reset => "",
    }
}

pub fn label_of(form: &FormState, field: Field) -> String {
    let operand_names = |kind: MatchKind| match kind {
        MatchKind::Cookie => ("Cookie", "Value"),
        MatchKind::Header(StringMatch::Regex) => ("Header", "Regex"),
        MatchKind::Header(StringMatch::Prefix) => ("Header", "Prefix"),
        _ => ("Header", "Value"),
    };
    let canary_kind = |i: usize| match &form.draft {
        Draft::Canary { rules, .. } => rules.get(i).map(|r| r.matcher.kind),
        _ => None,
    };
    let fault_kind = match &form.draft {
        Draft::Fault(fault) => fault.only.kind,
        _ => MatchKind::Any,
    };
    let text = match field {
        Field::Weight(i) => form
            .draft
            .split()
            .and_then(|s| s.weights.get(i))
            .map(|w| w.version.clone())
            .unwrap_or_default(),
        Field::CanaryMatch(_) => "Match".into(),
        Field::CanaryName(i) => operand_names(canary_kind(i).unwrap_or(MatchKind::Any))
            .0
            .into(),
        Field::CanaryValue(i) => operand_names(canary_kind(i).unwrap_or(MatchKind::Any))
            .1
            .into(),
        Field::CanaryVersion(_) => "To version".into(),
        Field::DelayFixed => "Delay".into(),
        Field::DelayPercent => "Delayed requests (%)".into(),
        Field::AbortStatus => "Abort with HTTP status".into(),
        Field::AbortPercent => "Aborted requests (%)".into(),
        Field::FaultMatch => "Only requests matching".into(),
        Field::MatchName => format!("{} name", operand_names(fault_kind).0),
        Field::MatchValue => operand_names(fault_kind).1.into(),
        Field::MaxConnections => "Max connections".into(),
        Field::MaxPendingRequests => "Max pending requests".into(),
        Field::MaxRequestsPerConnection => "Max requests per connection".into(),
        Field::Consecutive5xxErrors => "Consecutive 5xx to eject".into(),
        Field::Interval => "Ejection sweep interval".into(),
        Field::BaseEjectionTime => "Base ejection time".into(),
        Field::MaxEjectionPercent => "Max ejected hosts (%)".into(),
        Field::Timeout => "Request timeout".into(),
        Field::Attempts => "Retry attempts".into(),
        Field::PerTryTimeout => "Timeout per try".into(),
        Field::RetryOn => "Retry on".into(),
        Field::Form | Field::Weights => String::new(),
    };
    text
}

/// The grey hint after an input: an example, or the unit.
pub fn hint_of(field: Field) -> &'static str {
    match field {
        Field::DelayFixed => "e.g. 2s, 500ms",
        Field::AbortStatus => "e.g. 503",
        Field::DelayPercent | Field::AbortPercent | Field::MaxEjectionPercent => "0 to 100",
        Field::Interval | Field::BaseEjectionTime | Field::Timeout | Field::PerTryTimeout => {
            "e.g. 10s, 1.5s, 200ms"
        }
        Field::RetryOn => "e.g. 5xx,connect-failure,503",
        Field::MatchName | Field::CanaryName(_) => "e.g. end-user",
        _ => "",
    }
}

/// Splits text into lines of at most `width` cells at spaces (a longer word is cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.width() + 1 + word.width() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.width() > width {
            let cut: String = line.chars().take(width).collect();
            let rest: String = line.chars().skip(width).collect();
            lines.push(cut);
            line = rest;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
