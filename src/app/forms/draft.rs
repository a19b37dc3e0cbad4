//! What a form holds while it is edited: the typed text of every field, the order of its
//! rows, and the edits a key makes to one row.

use super::weights::WeightsDraft;
use crate::mesh::rules::model::StringMatch;
use crate::mesh::rules::validate::{
    BreakerInput, CanaryInput, CanaryRuleInput, FaultInput, Field, FormInput, MatchInput,
    MatchKind, ShiftInput, TimeoutsInput,
};

/// The six rule forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FormKind {
    Shift,
    Canary,
    Fault,
    Breaker,
    Timeouts,
    Reset,
}

impl FormKind {
    pub const ALL: [FormKind; 6] = [
        FormKind::Shift,
        FormKind::Canary,
        FormKind::Fault,
        FormKind::Breaker,
        FormKind::Timeouts,
        FormKind::Reset,
    ];

    pub fn title(self) -> &'static str {
        match self {
            FormKind::Shift => "Gray release",
            FormKind::Canary => "Canary by request",
            FormKind::Fault => "Fault injection",
            FormKind::Breaker => "Circuit breaking",
            FormKind::Timeouts => "Timeouts and retries",
            FormKind::Reset => "Reset",
        }
    }

    /// One line saying what the form does, for the menu.
    pub fn summary(self) -> &'static str {
        match self {
            FormKind::Shift => "split traffic between versions by weight",
            FormKind::Canary => "send matching requests to one version",
            FormKind::Fault => "add delays or errors to requests",
            FormKind::Breaker => "limit connections, eject failing hosts",
            FormKind::Timeouts => "request timeout and retries",
            FormKind::Reset => "remove the routing meshtui manages",
        }
    }

    /// The `:` command that opens the form; also its key in the menu (first letter).
    pub fn command(self) -> &'static str {
        match self {
            FormKind::Shift => "shift",
            FormKind::Canary => "canary",
            FormKind::Fault => "fault",
            FormKind::Breaker => "breaker",
            FormKind::Timeouts => "timeout",
            FormKind::Reset => "reset",
        }
    }

    pub fn from_command(word: &str) -> Option<FormKind> {
        let word = if word == "timeouts" { "timeout" } else { word };
        FormKind::ALL.into_iter().find(|k| k.command() == word)
    }

    pub fn menu_key(self) -> char {
        self.command().chars().next().unwrap_or(' ')
    }
}

/// How a row is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// Typed text.
    Text,
    /// A weight: typed digits, or moved with the arrows.
    Weight,
    /// One of a few values, changed with the arrows.
    Choice,
}

pub fn row_kind(field: Field) -> RowKind {
    match field {
        Field::Weight(_) => RowKind::Weight,
        Field::CanaryMatch(_) | Field::CanaryVersion(_) | Field::FaultMatch => RowKind::Choice,
        _ => RowKind::Text,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    Shift(WeightsDraft),
    Canary {
        rules: Vec<CanaryRuleInput>,
        split: WeightsDraft,
    },
    Fault(FaultInput),
    Breaker(BreakerInput),
    Timeouts(TimeoutsInput),
    Reset,
}

/// The header a canary rule starts with: the one Bookinfo's own example routes on.
const DEFAULT_HEADER: &str = "end-user";

fn new_canary_rule(versions: &[String]) -> CanaryRuleInput {
    CanaryRuleInput {
        matcher: MatchInput {
            kind: MatchKind::Header(StringMatch::Exact),
            name: DEFAULT_HEADER.into(),
            value: String::new(),
        },
        // The newest version is the usual canary.
        version: versions.last().cloned().unwrap_or_default(),
    }
}

impl Draft {
    pub fn new(kind: FormKind, versions: &[String]) -> Self {
        match kind {
            FormKind::Shift => Draft::Shift(WeightsDraft::new(versions)),
            FormKind::Canary => Draft::Canary {
                rules: vec![new_canary_rule(versions)],
                split: WeightsDraft::new(versions),
            },
            FormKind::Fault => Draft::Fault(FaultInput {
                delay: String::new(),
                delay_percent: String::new(),
                abort_status: String::new(),
                abort_percent: String::new(),
                only: MatchInput::any(),
            }),
            FormKind::Breaker => Draft::Breaker(BreakerInput::default()),
            FormKind::Timeouts => Draft::Timeouts(TimeoutsInput::default()),
            FormKind::Reset => Draft::Reset,
        }
    }

    /// A new draft whose weights start at `current` (the service's split now), when known.
    pub fn starting(
        kind: FormKind,
        versions: &[String],
        current: Option<&[(String, u32)]>,
    ) -> Self {
        let mut draft = Draft::new(kind, versions);
        if let (Some(current), Some(split)) = (current, draft.split_mut()) {
            *split = WeightsDraft::at(versions, current);
        }
        draft
    }

    /// The rows in the order Tab visits them.
    pub fn rows(&self) -> Vec<Field> {
        match self {
            Draft::Shift(split) => (0..split.len()).map(Field::Weight).collect(),
            Draft::Canary { rules, split } => {
                let mut rows = Vec::new();
                for (i, rule) in rules.iter().enumerate() {
                    rows.push(Field::CanaryMatch(i));
                    if rule.matcher.kind.has_operands() {
                        rows.extend([Field::CanaryName(i), Field::CanaryValue(i)]);
                    }
                    rows.push(Field::CanaryVersion(i));
                }
                if !everyone_matched(rules) {
                    rows.extend((0..split.len()).map(Field::Weight));
                }
                rows
            }
            Draft::Fault(fault) => {
                let mut rows = vec![
                    Field::DelayFixed,
                    Field::DelayPercent,
                    Field::AbortStatus,
                    Field::AbortPercent,
                    Field::FaultMatch,
                ];
                if fault.only.kind.has_operands() {
                    rows.extend([Field::MatchName, Field::MatchValue]);
                }
                rows
            }
            Draft::Breaker(_) => vec![
                Field::MaxConnections,
                Field::MaxPendingRequests,
                Field::MaxRequestsPerConnection,
                Field::Consecutive5xxErrors,
                Field::Interval,
                Field::BaseEjectionTime,
                Field::MaxEjectionPercent,
            ],
            Draft::Timeouts(_) => vec![
                Field::Timeout,
                Field::Attempts,
                Field::PerTryTimeout,
                Field::RetryOn,
            ],
            Draft::Reset => Vec::new(),
        }
    }

    /// The weights on this form, if it has any.
    pub fn split(&self) -> Option<&WeightsDraft> {
        match self {
            Draft::Shift(split) | Draft::Canary { split, .. } => Some(split),
            _ => None,
        }
    }

    pub fn split_mut(&mut self) -> Option<&mut WeightsDraft> {
        match self {
            Draft::Shift(split) | Draft::Canary { split, .. } => Some(split),
            _ => None,
        }
    }

    pub fn text(&self, field: Field) -> Option<&str> {
        match (self, field) {
            (_, Field::Weight(i)) => self.split()?.weights.get(i).map(|w| w.text.as_str()),
            (Draft::Canary { rules, .. }, Field::CanaryName(i)) => {
                rules.get(i).map(|r| r.matcher.name.as_str())
            }
            (Draft::Canary { rules, .. }, Field::CanaryValue(i)) => {
                rules.get(i).map(|r| r.matcher.value.as_str())
            }
            (Draft::Canary { rules, .. }, Field::CanaryMatch(i)) => {
                rules.get(i).map(|r| r.matcher.kind.label())
            }
            (Draft::Canary { rules, .. }, Field::CanaryVersion(i)) => {
                rules.get(i).map(|r| r.version.as_str())
            }
            (Draft::Fault(fault), Field::FaultMatch) => Some(fault.only.kind.label()),
            _ => self.text_slot(field).map(|s| &**s),
        }
    }

    /// The string a text row edits (weights excepted: they balance).
    fn text_slot(&self, field: Field) -> Option<&String> {
        match (self, field) {
            (Draft::Fault(f), Field::DelayFixed) => Some(&f.delay),
            (Draft::Fault(f), Field::DelayPercent) => Some(&f.delay_percent),
            (Draft::Fault(f), Field::AbortStatus) => Some(&f.abort_status),
            (Draft::Fault(f), Field::AbortPercent) => Some(&f.abort_percent),
            (Draft::Fault(f), Field::MatchName) => Some(&f.only.name),
            (Draft::Fault(f), Field::MatchValue) => Some(&f.only.value),
            (Draft::Breaker(b), Field::MaxConnections) => Some(&b.max_connections),
            (Draft::Breaker(b), Field::MaxPendingRequests) => Some(&b.max_pending_requests),
            (Draft::Breaker(b), Field::MaxRequestsPerConnection) => {
                Some(&b.max_requests_per_connection)
            }
            (Draft::Breaker(b), Field::Consecutive5xxErrors) => Some(&b.consecutive_5xx_errors),
            (Draft::Breaker(b), Field::Interval) => Some(&b.interval),
            (Draft::Breaker(b), Field::BaseEjectionTime) => Some(&b.base_ejection_time),
            (Draft::Breaker(b), Field::MaxEjectionPercent) => Some(&b.max_ejection_percent),
            (Draft::Timeouts(t), Field::Timeout) => Some(&t.timeout),
            (Draft::Timeouts(t), Field::Attempts) => Some(&t.attempts),
            (Draft::Timeouts(t), Field::PerTryTimeout) => Some(&t.per_try_timeout),
            (Draft::Timeouts(t), Field::RetryOn) => Some(&t.retry_on),
            _ => None,
        }
    }

    fn text_slot_mut(&mut self, field: Field) -> Option<&mut String> {
        match (self, field) {
            (Draft::Canary { rules, .. }, Field::CanaryName(i)) => {
                rules.get_mut(i).map(|r| &mut r.matcher.name)
            }
            (Draft::Canary { rules, .. }, Field::CanaryValue(i)) => {
                rules.get_mut(i).map(|r| &mut r.matcher.value)
            }
            (Draft::Fault(f), Field::DelayFixed) => Some(&mut f.delay),
            (Draft::Fault(f), Field::DelayPercent) => Some(&mut f.delay_percent),
            (Draft::Fault(f), Field::AbortStatus) => Some(&mut f.abort_status),
            (Draft::Fault(f), Field::AbortPercent) => Some(&mut f.abort_percent),
            (Draft::Fault(f), Field::MatchName) => Some(&mut f.only.name),
            (Draft::Fault(f), Field::MatchValue) => Some(&mut f.only.value),
            (Draft::Breaker(b), Field::MaxConnections) => Some(&mut b.max_connections),
            (Draft::Breaker(b), Field::MaxPendingRequests) => Some(&mut b.max_pending_requests),
            (Draft::Breaker(b), Field::MaxRequestsPerConnection) => {
                Some(&mut b.max_requests_per_connection)
            }
            (Draft::Breaker(b), Field::Consecutive5xxErrors) => Some(&mut b.consecutive_5xx_errors),
            (Draft::Breaker(b), Field::Interval) => Some(&mut b.interval),
            (Draft::Breaker(b), Field::BaseEjectionTime) => Some(&mut b.base_ejection_time),
            (Draft::Breaker(b), Field::MaxEjectionPercent) => Some(&mut b.max_ejection_percent),
            (Draft::Timeouts(t), Field::Timeout) => Some(&mut t.timeout),
            (Draft::Timeouts(t), Field::Attempts) => Some(&mut t.attempts),
            (Draft::Timeouts(t), Field::PerTryTimeout) => Some(&mut t.per_try_timeout),
            (Draft::Timeouts(t), Field::RetryOn) => Some(&mut t.retry_on),
            _ => None,
        }
    }

    /// Types one character at the end of a row; `false` when the row takes no text.
    pub fn push_char(&mut self, field: Field, c: char) -> bool {
        match row_kind(field) {
            RowKind::Weight => {
                let Field::Weight(i) = field else {
                    return false;
                };
                let Some(split) = self.split_mut() else {
                    return false;
                };
                let Some(weight) = split.weights.get(i) else {
                    return false;
                };
                // Three digits are enough for 0 to 100.
                if !c.is_ascii_digit() || weight.text.len() >= 3 || split.is_locked(i) {
                    return false;
                }
                let text = format!("{}{c}", weight.text);
                split.type_text(i, text);
                true
            }
            RowKind::Text => match self.text_slot_mut(field) {
                Some(text) if !c.is_control() => {
                    text.push(c);
                    true
                }
                _ => false,
            },
            RowKind::Choice => false,
        }
    }

    /// Deletes the last character of a row.
    pub fn pop_char(&mut self, field: Field) -> bool {
        if let Field::Weight(i) = field {
            let Some(split) = self.split_mut() else {
                return false;
            };
            let Some(mut text) = split.weights.get(i).map(|w| w.text.clone()) else {
                return false;
            };
            if split.is_locked(i) || text.pop().is_none() {
                return false;
            }
            split.type_text(i, text);
            return true;
        }
        self.text_slot_mut(field)
            .is_some_and(|text| text.pop().is_some())
    }

    /// Steps a choice row through its values (`delta` of +1 or -1).
    pub fn cycle(&mut self, field: Field, delta: i32, versions: &[String]) -> bool {
        fn step<T: PartialEq + Copy>(all: &[T], current: T, delta: i32) -> T {
            let n = all.len() as i32;
            let at = all.iter().position(|x| *x == current).unwrap_or(0) as i32;
            all[((at + delta).rem_euclid(n.max(1))) as usize]
        }
        match (self, field) {
            (Draft::Canary { rules, .. }, Field::CanaryMatch(i)) => {
                let Some(rule) = rules.get_mut(i) else {
                    return false;
                };
                rule.matcher.kind = step(&MatchKind::ALL, rule.matcher.kind, delta);
                true
            }
            (Draft::Canary { rules, .. }, Field::CanaryVersion(i)) => {
                let Some(rule) = rules.get_mut(i) else {
                    return false;
                };
                if versions.is_empty() {
                    return false;
                }
                let names: Vec<&str> = versions.iter().map(String::as_str).collect();
                rule.version = step(&names, rule.version.as_str(), delta).to_owned();
                true
            }
            (Draft::Fault(fault), Field::FaultMatch) => {
                fault.only.kind = step(&MatchKind::ALL, fault.only.kind, delta);
                true
            }
            _ => false,
        }
    }

    /// Adds a canary rule after rule `after` (or at the end); returns its index.
    pub fn add_rule(&mut self, after: Option<usize>, versions: &[String]) -> Option<usize> {
        let Draft::Canary { rules, .. } = self else {
            return None;
        };
        let at = after.map_or(rules.len(), |i| (i + 1).min(rules.len()));
        rules.insert(at, new_canary_rule(versions));
        Some(at)
    }

    pub fn remove_rule(&mut self, i: usize) -> bool {
        match self {
            Draft::Canary { rules, .. } if i < rules.len() => {
                rules.remove(i);
                true
            }
            _ => false,
        }
    }

    /// Moves rule `i` one place up (`-1`) or down (`+1`); returns where it went.
    pub fn move_rule(&mut self, i: usize, delta: i32) -> Option<usize> {
        let Draft::Canary { rules, .. } = self else {
            return None;
        };
        let to = usize::try_from(i as i64 + i64::from(delta)).ok()?;
        if i >= rules.len() || to >= rules.len() {
            return None;
        }
        rules.swap(i, to);
        Some(to)
    }

    /// What the form holds, for the checks.
    pub fn input(&self) -> FormInput {
        match self {
            Draft::Shift(split) => FormInput::Shift(ShiftInput {
                weights: split.weights.clone(),
            }),
            Draft::Canary { rules, split } => FormInput::Canary(CanaryInput {
                rules: rules.clone(),
                weights: split.weights.clone(),
            }),
            Draft::Fault(fault) => FormInput::Fault(fault.clone()),
            Draft::Breaker(breaker) => FormInput::Breaker(breaker.clone()),
            Draft::Timeouts(timeouts) => FormInput::Timeouts(timeouts.clone()),
            Draft::Reset => FormInput::Reset,
        }
    }
}

/// A last rule for every request leaves no one to the weights.
pub fn everyone_matched(rules: &[CanaryRuleInput]) -> bool {
    rules
        .last()
        .is_some_and(|r| r.matcher.kind == MatchKind::Any)
}

/// The rule a canary row belongs to.
pub fn rule_of(field: Field) -> Option<usize> {
    match field {
        Field::CanaryMatch(i)
        | Field::CanaryName(i)
        | Field::CanaryValue(i)
        | Field::CanaryVersion(i) => Some(i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions() -> Vec<String> {
        vec!["v1".into(), "v2".into(), "v3".into()]
    }

    #[test]
    fn a_canary_rule_shows_a_name_and_value_only_when_its_match_needs_them() {
        let mut draft = Draft::new(FormKind::Canary, &versions());
        let rows = draft.rows();
        assert_eq!(
            rows[..4],
            [
                Field::CanaryMatch(0),
                Field::CanaryName(0),
                Field::CanaryValue(0),
                Field::CanaryVersion(0)
            ]
        );
        assert_eq!(rows.len(), 7, "the three weights follow");
        assert_eq!(
            draft.text(Field::CanaryVersion(0)),
            Some("v3"),
            "the newest"
        );
        // Back from "header exact" is "every request": no operands, and no weights.
        assert!(draft.cycle(Field::CanaryMatch(0), -1, &versions()));
        assert_eq!(draft.text(Field::CanaryMatch(0)), Some("every request"));
        assert_eq!(
            draft.rows(),
            [Field::CanaryMatch(0), Field::CanaryVersion(0)]
        );
    }

    #[test]
    fn weights_take_up_to_three_digits_and_text_fields_take_any_character() {
        let mut draft = Draft::new(FormKind::Shift, &versions());
        assert!(
            !draft.push_char(Field::Weight(0), '5'),
            "100 is three digits"
        );
        assert!(!draft.push_char(Field::Weight(1), 'x'));
        assert!(draft.pop_char(Field::Weight(0)));
        assert_eq!(draft.text(Field::Weight(0)), Some("10"));
        assert_eq!(
            (draft.text(Field::Weight(1)), draft.text(Field::Weight(2))),
            (Some("45"), Some("45")),
            "the others share the rest"
        );

        let mut fault = Draft::new(FormKind::Fault, &versions());
        for c in "1.5s".chars() {
            assert!(fault.push_char(Field::DelayFixed, c));
        }
        assert!(
            !fault.push_char(Field::FaultMatch, 'x'),
            "a choice is not typed into"
        );
        assert_eq!(fault.text(Field::DelayFixed), Some("1.5s"));
    }

    #[test]
    fn canary_rules_are_added_after_the_current_one_moved_and_removed() {
        let mut draft = Draft::new(FormKind::Canary, &versions());
        assert_eq!(draft.add_rule(Some(0), &versions()), Some(1));
        assert!(draft.cycle(Field::CanaryVersion(1), 1, &versions()));
        assert_eq!(
            draft.text(Field::CanaryVersion(1)),
            Some("v1"),
            "wraps around"
        );
        assert_eq!(draft.move_rule(1, -1), Some(0));
        assert_eq!(draft.text(Field::CanaryVersion(0)), Some("v1"));
        assert_eq!(draft.move_rule(0, -1), None, "the first cannot go up");
        assert!(draft.remove_rule(0));
        assert_eq!(draft.text(Field::CanaryVersion(0)), Some("v3"));
        assert!(!draft.remove_rule(5));
    }
}
