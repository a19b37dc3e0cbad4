//! Equality label selectors (`matchLabels`, subset labels), as Kubernetes matches them.

use std::collections::BTreeMap;

/// Every label of the selector is on the object with the same value; the empty selector
/// selects everything.
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_selector_needs_every_label_with_its_value() {
        let labels = map(&[("app", "a"), ("version", "v1")]);
        let cases = [
            ("empty selects all", map(&[]), true),
            ("subset of labels", map(&[("app", "a")]), true),
            ("different value", map(&[("app", "b")]), false),
            ("missing key", map(&[("zone", "")]), false),
        ];
        for (name, selector, want) in cases {
            assert_eq!(selects(&selector, &labels), want, "{name}");
        }
    }
}
