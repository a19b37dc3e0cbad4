//! A Kubernetes object kept whole as JSON (so fields nobody here knows survive a round
//! trip), with small read-only accessors and, when it came from a file, where it was.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

static NULL: Value = Value::Null;

/// Where an object was read from: the file, the line its document starts on, and the line
/// of every scalar field, keyed by path like `.spec.http[0].route[1].destination.host`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourcePosition {
    pub file: String,
    pub line: usize,
    pub field_lines: HashMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KubeObject {
    value: Value,
    source: Option<SourcePosition>,
}

impl KubeObject {
    pub fn new(value: Value, source: Option<SourcePosition>) -> Self {
        KubeObject { value, source }
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn into_value(self) -> Value {
        self.value
    }

    pub fn source(&self) -> Option<&SourcePosition> {
        self.source.as_ref()
    }

    pub fn api_version(&self) -> &str {
        str_of(&self.value["apiVersion"])
    }

    /// The API group: empty for the core group (`apiVersion: v1`).
    pub fn group(&self) -> &str {
        match self.api_version().split_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }

    pub fn kind(&self) -> &str {
        str_of(&self.value["kind"])
    }

    pub fn name(&self) -> &str {
        str_of(&self.value["metadata"]["name"])
    }

    /// Empty when the object names none.
    pub fn namespace(&self) -> &str {
        str_of(&self.value["metadata"]["namespace"])
    }

    pub fn set_namespace(&mut self, namespace: &str) {
        if let Some(metadata) = self
            .value
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
        {
            if namespace.is_empty() {
                metadata.remove("namespace");
            } else {
                metadata.insert("namespace".into(), Value::String(namespace.to_owned()));
            }
        }
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        string_map(&self.value["metadata"]["labels"])
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value["metadata"]["annotations"][key].as_str()
    }

    /// `spec`, or null when there is none.
    pub fn spec(&self) -> &Value {
        &self.value["spec"]
    }

    /// `namespace/name`, or just `name` when the object has no namespace (Istio's
    /// `FullName` as it prints).
    pub fn full_name(&self) -> String {
        full_name(self.namespace(), self.name())
    }

    /// The line of the scalar at `path`, when the object came from a file.
    pub fn field_line(&self, path: &str) -> Option<usize> {
        self.source.as_ref()?.field_lines.get(path).copied()
    }
}

pub fn full_name(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

/// The string, or empty when the value is missing or not a string.
pub fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// The items, or none when the value is missing or not a list.
pub fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// The strings of a list, skipping anything else.
pub fn strings(value: &Value) -> Vec<String> {
    items(value)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// A map of strings (labels, selectors); values that are not strings are skipped.
pub fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect()
}

/// `value[key]` for an object, null otherwise (never panics, unlike indexing a list).
pub fn field<'v>(value: &'v Value, key: &str) -> &'v Value {
    value.get(key).unwrap_or(&NULL)
}

/// A whole number field, when it is one (also written as a numeric string).
pub fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accessors_read_the_metadata_and_keep_unknown_fields() {
        let object = KubeObject::new(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                   "metadata": {"name": "reviews", "namespace": "shop", "labels": {"app": "r", "n": 1}},
                   "spec": {"hosts": ["reviews"], "futureField": {"x": 1}}}),
            None,
        );
        assert_eq!(object.group(), "networking.istio.io");
        assert_eq!(object.kind(), "VirtualService");
        assert_eq!(object.full_name(), "shop/reviews");
        assert_eq!(object.labels().get("app").map(String::as_str), Some("r"));
        assert!(
            !object.labels().contains_key("n"),
            "non-strings are skipped"
        );
        assert_eq!(object.spec()["futureField"]["x"], 1);
    }

    #[test]
    fn a_core_object_has_the_empty_group_and_no_namespace_prints_the_bare_name() {
        let mut object = KubeObject::new(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}),
            None,
        );
        assert_eq!(object.group(), "");
        assert_eq!(object.full_name(), "a");
        object.set_namespace("default");
        assert_eq!(object.full_name(), "default/a");
    }
}
