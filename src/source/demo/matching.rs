//! Which simulated requests a VirtualService's `match` selects: header conditions (exact,
//! prefix, or a regex over the whole value), `withoutHeaders`, and the client's labels and
//! namespace. A condition on what simulated requests do not carry (`uri`, `method`,
//! `authority`, `scheme`, `queryParams`, `port`) matches none of them.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use crate::mesh::rules::object::{field, string_map};

use super::requests::RequestClass;

#[derive(Debug, Clone)]
pub enum StringMatcher {
    Exact(String),
    Prefix(String),
    /// Anchored at both ends, as Envoy's RE2 matches whole values.
    Regex(Option<Regex>),
}

impl StringMatcher {
    pub fn parse(value: &Value) -> Option<Self> {
        if let Some(exact) = value.get("exact").and_then(Value::as_str) {
            return Some(StringMatcher::Exact(exact.to_owned()));
        }
        if let Some(prefix) = value.get("prefix").and_then(Value::as_str) {
            return Some(StringMatcher::Prefix(prefix.to_owned()));
        }
        let regex = value.get("regex").and_then(Value::as_str)?;
        Some(StringMatcher::Regex(
            Regex::new(&format!("^(?:{regex})$")).ok(),
        ))
    }

    fn matches(&self, value: Option<&str>) -> bool {
        let Some(value) = value else {
            return false;
        };
        match self {
            StringMatcher::Exact(exact) => value == exact,
            StringMatcher::Prefix(prefix) => value.starts_with(prefix.as_str()),
            StringMatcher::Regex(regex) => regex.as_ref().is_some_and(|r| r.is_match(value)),
        }
    }
}

/// One `HTTPMatchRequest`: all its conditions must hold.
#[derive(Debug, Clone, Default)]
pub struct RequestMatch {
    headers: Vec<(String, StringMatcher)>,
    without_headers: Vec<(String, StringMatcher)>,
    source_labels: BTreeMap<String, String>,
    source_namespace: Option<String>,
    /// A condition on something simulated requests do not carry.
    unsupported: bool,
}

/// Who sends a request: the client workload's labels and namespace.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

impl RequestMatch {
    pub fn parse(value: &Value) -> Self {
        let headers = |key: &str| -> Vec<(String, StringMatcher)> {
            field(value, key)
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(name, m)| Some((name.to_ascii_lowercase(), StringMatcher::parse(m)?)))
                .collect()
        };
        let unsupported = [
            "uri",
            "method",
            "authority",
            "scheme",
            "queryParams",
            "port",
        ]
        .iter()
        .any(|key| value.get(*key).is_some_and(|v| !v.is_null()));
        RequestMatch {
            headers: headers("headers"),
            without_headers: headers("withoutHeaders"),
            source_labels: string_map(field(value, "sourceLabels")),
            source_namespace: value
                .get("sourceNamespace")
                .and_then(Value::as_str)
                .map(str::to_owned),
            unsupported,
        }
    }

    pub fn matches(&self, request: &RequestClass, client: Client<'_>) -> bool {
        !self.unsupported
            && self
                .headers
                .iter()
                .all(|(name, m)| m.matches(request.header(name)))
            && !self
                .without_headers
                .iter()
                .any(|(name, m)| m.matches(request.header(name)))
            && self
                .source_labels
                .iter()
                .all(|(k, v)| client.labels.get(k) == Some(v))
            && self
                .source_namespace
                .as_ref()
                .is_none_or(|ns| ns == client.namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_matches_test_the_simulated_request() {
        let classes = super::super::requests::request_classes();
        let labels = BTreeMap::new();
        let client = Client {
            namespace: "bookinfo",
            labels: &labels,
        };
        let share = |m: Value| -> f64 {
            let m = RequestMatch::parse(&m);
            classes
                .iter()
                .filter(|c| m.matches(c, client))
                .map(|c| c.share)
                .sum()
        };
        assert!((share(json!({"headers": {"end-user": {"exact": "jason"}}})) - 0.1).abs() < 1e-9);
        assert!(
            (share(json!({"headers": {"user-agent": {"regex": ".*Firefox.*"}}})) - 0.3).abs()
                < 1e-9
        );
        let cookie = crate::mesh::rules::render::cookie_regex("user", "jason");
        assert!((share(json!({"headers": {"cookie": {"regex": cookie}}})) - 0.1).abs() < 1e-9);
        assert_eq!(share(json!({"uri": {"prefix": "/"}})), 0.0);
    }
}
