//! `schema.ValidationAnalyzer.VirtualService`, the part of Istio's VirtualService
//! validation that reports through analysis messages: a rule that can never match
//! (IST0130) and a match an earlier one already takes (IST0131), for HTTP, TCP and TLS
//! rules; plus, for HTTP, a URI prefix shadowed by a shorter earlier prefix.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::mesh::rules::analyze::message::{go_quote, text, Message, MessageKind};
use crate::mesh::rules::analyze::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, items, number, str_of, KubeObject};

pub fn analyze(snapshot: &Snapshot, out: &mut Vec<Message>) {
    for vs in snapshot.of_kind(Kind::VirtualService) {
        let spec = vs.spec();
        let mut findings = Vec::new();
        rules(items(field(spec, "http")), true, &mut findings);
        rules(items(field(spec, "tcp")), false, &mut findings);
        rules(items(field(spec, "tls")), false, &mut findings);
        for finding in findings {
            out.push(message(vs, finding));
        }
    }
}

enum Finding {
    Unreachable {
        rule: String,
        reason: &'static str,
    },
    Ineffective {
        rule: String,
        matched: String,
        earlier: String,
    },
}

fn message(vs: &KubeObject, finding: Finding) -> Message {
    match finding {
        Finding::Unreachable { rule, reason } => Message::about(
            vs,
            None,
            MessageKind::VirtualServiceUnreachableRule,
            text::unreachable_rule(&rule, reason),
        ),
        Finding::Ineffective {
            rule,
            matched,
            earlier,
        } => Message::about(
            vs,
            None,
            MessageKind::VirtualServiceIneffectiveMatch,
            text::ineffective_match(&rule, &matched, &earlier),
        ),
    }
}

/// A quoted name when the rule (HTTP only) has one, else `#index`.
fn rule_name(rule: &Value, index: usize, http: bool) -> String {
    let name = str_of(field(rule, "name"));
    if http && !name.is_empty() {
        go_quote(name)
    } else {
        format!("#{index}")
    }
}

fn rules(routes: &[Value], http: bool, findings: &mut Vec<Finding>) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut catch_all: Option<usize> = None;
    let mut prefixes: Vec<PrefixMatch> = Vec::new();
    for (index, route) in routes.iter().enumerate() {
        if !route.is_object() {
            continue;
        }
        let name = rule_name(route, index, http);
        let matches = items(field(route, "match"));
        if matches.is_empty() {
            if catch_all.is_some() {
                findings.push(Finding::Unreachable {
                    rule: name,
                    reason: "only the last rule can have no matches",
                });
            }
            catch_all = Some(index);
            continue;
        }
        let mut duplicates = 0;
        for (match_index, request) in matches.iter().enumerate() {
            if catch_all.is_some() {
                findings.push(Finding::Unreachable {
                    rule: name.clone(),
                    reason: "route without matches defined before",
                });
                continue;
            }
            let key = match_key(request, http);
            if let Some(&earlier) = seen.get(&key) {
                findings.push(Finding::Ineffective {
                    rule: name.clone(),
                    matched: rule_name(request, match_index, http),
                    earlier: rule_name(&routes[earlier], earlier, http),
                });
                duplicates += 1;
                continue;
            }
            seen.insert(key, index);
            if http {
                if let Some(prefix) =
                    PrefixMatch::of(&name, rule_name(request, match_index, true), request)
                {
                    prefixes.push(prefix);
                }
            }
        }
        if duplicates == matches.len() {
            findings.push(Finding::Unreachable {
                rule: name,
                reason: "all matches used by prior rules",
            });
        }
    }
    for (i, earlier) in prefixes.iter().enumerate() {
        for later in &prefixes[i + 1..] {
            if later.prefix != earlier.prefix && earlier.covers(later) {
                findings.push(Finding::Ineffective {
                    rule: later.rule.clone(),
                    matched: format!("{} of prefix {}", later.matched, later.prefix),
                    earlier: format!(
                        "{} of prefix {} on {}",
                        earlier.matched, earlier.prefix, earlier.rule
                    ),
                });
            }
        }
    }
}

/// Two matches are the same when they select the same traffic: the match's own name
/// aside, and with unset and zero fields alike (as Go's JSON of the match has it).
fn match_key(request: &Value, http: bool) -> String {
    match request {
        Value::Object(map) if http => {
            let mut map = map.clone();
            map.remove("name");
            canonical(&Value::Object(map))
        }
        other => canonical(other),
    }
}

fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> =
                map.iter().filter(|(_, v)| !is_unset(v)).collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(list) => {
            let parts: Vec<String> = list.iter().map(canonical).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

fn is_unset(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(list) => list.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

/// An HTTP match on a URI prefix, reduced to what decides whether an earlier one covers it.
struct PrefixMatch {
    rule: String,
    matched: String,
    prefix: String,
    port: u64,
    method: String,
    authority: String,
    headers: BTreeMap<String, String>,
    query_params: BTreeMap<String, String>,
    without_headers: BTreeMap<String, String>,
}

impl PrefixMatch {
    fn of(rule: &str, matched: String, request: &Value) -> Option<PrefixMatch> {
        let prefix = str_of(field(field(request, "uri"), "prefix"));
        if prefix.is_empty() {
            return None;
        }
        let method = match exact_or_prefix(field(request, "method")) {
            m if m.is_empty() => "exact:GET".to_owned(),
            m => m,
        };
        let string_matches = |key: &str| -> BTreeMap<String, String> {
            field(request, key)
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), exact_or_prefix(v)))
                .collect()
        };
        Some(PrefixMatch {
            rule: rule.to_owned(),
            matched,
            prefix: prefix.to_owned(),
            port: number(field(request, "port")).unwrap_or(0),
            method,
            authority: exact_or_prefix(field(request, "authority")),
            headers: string_matches("headers"),
            query_params: string_matches("queryParams"),
            without_headers: string_matches("withoutHeaders"),
        })
    }

    /// Whether every request `later` takes, `self` (earlier) takes first.
    fn covers(&self, later: &PrefixMatch) -> bool {
        let narrower = |a: &str, b: &str| a == b || a.starts_with(b);
        let maps = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, av)| b.get(k).is_some_and(|bv| narrower(av, bv)))
        };
        later.prefix.starts_with(&self.prefix)
            && later.port == self.port
            && narrower(&self.method, &later.method)
            && narrower(&self.authority, &later.authority)
            && maps(&self.headers, &later.headers)
            && maps(&self.query_params, &later.query_params)
            && maps(&self.without_headers, &later.without_headers)
    }
}

/// `exact:value`, `prefix:value`, or empty for other string matches.
fn exact_or_prefix(string_match: &Value) -> String {
    let exact = str_of(field(string_match, "exact"));
    if !exact.is_empty() {
        return format!("exact:{exact}");
    }
    let prefix = str_of(field(string_match, "prefix"));
    if !prefix.is_empty() {
        return format!("prefix:{prefix}");
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(spec: Value) -> Vec<String> {
        let object = KubeObject::new(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                   "metadata": {"name": "vs"}, "spec": spec}),
            None,
        );
        let snapshot = Snapshot::new(vec![object], None);
        let mut out = Vec::new();
        analyze(&snapshot, &mut out);
        out.iter()
            .map(|m| format!("{} {}", m.code(), m.text))
            .collect()
    }

    #[test]
    fn duplicate_and_overlapping_matches_are_reported_as_istioctl_words_them() {
        let route = |uri: &str| json!({"uri": {"prefix": uri}});
        let cases: [(&str, Value, Vec<&str>); 6] = [
            (
                "a second rule without matches",
                json!({"http": [{"route": []}, {"route": []}]}),
                vec!["IST0130 VirtualService rule #1 not used (only the last rule can have no matches)."],
            ),
            (
                "the same match again, names aside",
                json!({"http": [{"name": "a", "match": [{"name": "m", "uri": {"prefix": "/p"}}]},
                                {"match": [route("/p")]}]}),
                vec![
                    "IST0131 VirtualService rule #1 match #0 is not used (duplicate/overlapping match in rule \"a\").",
                    "IST0130 VirtualService rule #1 not used (all matches used by prior rules).",
                ],
            ),
            (
                "a longer prefix after a shorter one",
                json!({"http": [{"name": "r", "match": [route("/api"), route("/api/v1")]}]}),
                vec!["IST0131 VirtualService rule \"r\" match #1 of prefix /api/v1 is not used (duplicate/overlapping match in rule #0 of prefix /api on \"r\")."],
            ),
            (
                "a different method is not covered",
                json!({"http": [{"match": [{"uri": {"prefix": "/a"}, "method": {"exact": "GET"}}]},
                                {"match": [{"uri": {"prefix": "/ab"}, "method": {"exact": "POST"}}]}]}),
                vec![],
            ),
            (
                "duplicate tcp matches, zero port like no port",
                json!({"tcp": [{"match": [{"port": 0, "sourceLabels": {}}]}, {"match": [{}]}]}),
                vec![
                    "IST0131 VirtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0).",
                    "IST0130 VirtualService rule #1 not used (all matches used by prior rules).",
                ],
            ),
            (
                "a match after a catch-all",
                json!({"tls": [{"route": []}, {"match": [{"port": 1}, {"port": 2}]}]}),
                vec![
                    "IST0130 VirtualService rule #1 not used (route without matches defined before).",
                    "IST0130 VirtualService rule #1 not used (route without matches defined before).",
                ],
            ),
        ];
        for (name, spec, want) in cases {
            assert_eq!(lines(spec), want, "{name}");
        }
    }
}
