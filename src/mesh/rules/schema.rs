//! Validation of an object against the OpenAPI v3 schema of its CustomResourceDefinition,
//! the way the API server does it: structural checks, then the CEL rules.
//!
//! Schemas come from CRD objects as JSON: read from the cluster when live (so the installed
//! Istio decides), or from the copy embedded for the demo and offline use.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};
use thiserror::Error;

use super::cel::{self, CelError};
use super::object::KubeObject;
use super::yaml::parse_objects;

/// One reason the object is refused, at a field path written as the API server writes it
/// (`spec.http[0].route[1].weight`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SchemaError {
    #[error("a CustomResourceDefinition without {0}")]
    MalformedCrd(&'static str),
    #[error("no schema for {kind} in {api_version}: the cluster does not serve it")]
    UnknownKind { api_version: String, kind: String },
    #[error("the object has no {0}")]
    MalformedObject(&'static str),
}

/// The verdict on one object: what is wrong, and the CEL rules left to the server.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    /// Rules meshtui cannot evaluate offline; the server's dry-run checks them.
    pub unchecked_rules: Vec<String>,
}

/// The schemas of every served version of a set of CRDs.
#[derive(Debug, Default, Clone)]
pub struct CrdSchemas {
    /// (`group/version`, kind) -> openAPIV3Schema.
    schemas: HashMap<(String, String), Value>,
}

impl CrdSchemas {
    /// From CRD objects (`apiextensions.k8s.io/v1` CustomResourceDefinition) as JSON.
    pub fn from_crds<'a>(crds: impl IntoIterator<Item = &'a Value>) -> Result<Self, SchemaError> {
        let mut schemas = HashMap::new();
        for crd in crds {
            let spec = crd.get("spec").ok_or(SchemaError::MalformedCrd("spec"))?;
            let group = spec
                .get("group")
                .and_then(Value::as_str)
                .ok_or(SchemaError::MalformedCrd("spec.group"))?;
            let kind = spec
                .pointer("/names/kind")
                .and_then(Value::as_str)
                .ok_or(SchemaError::MalformedCrd("spec.names.kind"))?;
            let versions = spec
                .get("versions")
                .and_then(Value::as_array)
                .ok_or(SchemaError::MalformedCrd("spec.versions"))?;
            for version in versions {
                if version.get("served").and_then(Value::as_bool) == Some(false) {
                    continue;
                }
                let (Some(name), Some(schema)) = (
                    version.get("name").and_then(Value::as_str),
                    version.pointer("/schema/openAPIV3Schema"),
                ) else {
                    return Err(SchemaError::MalformedCrd(
                        "spec.versions[].name or schema.openAPIV3Schema",
                    ));
                };
                schemas.insert((format!("{group}/{name}"), kind.to_owned()), schema.clone());
            }
        }
        Ok(CrdSchemas { schemas })
    }

    /// The schemas of the Istio release meshtui embeds (see `crds/ORIGIN.md`), read once.
    pub fn embedded() -> &'static CrdSchemas {
        static EMBEDDED: OnceLock<CrdSchemas> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            let text = include_str!("crds/crd-all.gen.yaml");
            // The embedded file is checked by a test; were it ever unreadable, no schema is
            // known and every check says so rather than passing.
            parse_objects("crd-all.gen.yaml", text)
                .ok()
                .and_then(|objects| {
                    CrdSchemas::from_crds(objects.iter().map(KubeObject::value)).ok()
                })
                .unwrap_or_default()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }

    /// Checks `object` against the schema of its apiVersion and kind.
    pub fn validate(&self, object: &Value) -> Result<Verdict, SchemaError> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .ok_or(SchemaError::MalformedObject("apiVersion"))?;
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(SchemaError::MalformedObject("kind"))?;
        let schema = self
            .schemas
            .get(&(api_version.to_owned(), kind.to_owned()))
            .ok_or_else(|| SchemaError::UnknownKind {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
            })?;
        let mut checker = Checker::structural();
        checker.check(schema, object, "", true);
        Ok(checker.verdict)
    }
}

struct Checker {
    verdict: Verdict,
    regexes: HashMap<String, Option<Regex>>,
    /// Unknown fields are refused by the structural schema only; in `oneOf`/`anyOf`/
    /// `allOf`/`not` a schema without `properties` says nothing about other fields.
    refuse_unknown_fields: bool,
}

impl Checker {
    fn structural() -> Self {
        Checker {
            verdict: Verdict::default(),
            regexes: HashMap::new(),
            refuse_unknown_fields: true,
        }
    }
}

fn child(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::Object(_) => "object".to_owned(),
        Value::Array(_) => "array".to_owned(),
        other => other.to_string(),
    }
}

impl Checker {
    fn violation(&mut self, path: &str, message: String) {
        let path = if path.is_empty() { "<root>" } else { path };
        self.verdict.violations.push(Violation {
            path: path.to_owned(),
            message,
        });
    }

    fn check(&mut self, schema: &Value, value: &Value, path: &str, root: bool) {
        let before = self.verdict.violations.len();
        if value.is_null() {
            if schema.get("nullable").and_then(Value::as_bool) != Some(true) {
                self.violation(path, "Invalid value: null: must not be null".into());
            }
            return;
        }
        if !self.type_matches(schema, value, path) {
            return;
        }
        self.check_scalar_bounds(schema, value, path);
        match value {
            Value::Object(map) => self.check_object(schema, map, path, root),
            Value::Array(items) => self.check_array(schema, items, path),
            _ => {}
        }
        self.check_combinators(schema, value, path);
        // The API server runs the CEL rules only on values whose structure is valid.
        if self.verdict.violations.len() == before {
            self.check_rules(schema, value, path);
        }
    }

    fn type_matches(&mut self, schema: &Value, value: &Value, path: &str) -> bool {
        if schema
            .get("x-kubernetes-int-or-string")
            .and_then(Value::as_bool)
            == Some(true)
        {
            let ok = value.is_string() || value.as_i64().is_some() || value.as_u64().is_some();
            if !ok {
                self.violation(
                    path,
                    format!(
                        "Invalid value: {}: must be an integer or a string",
                        shown(value)
                    ),
                );
            }
            return ok;
        }
        let Some(expected) = schema.get("type").and_then(Value::as_str) else {
            return true;
        };
        let ok = match expected {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            _ => true,
        };
        if !ok {
            self.violation(
                path,
                format!(
                    "Invalid value: {}: {path} in body must be of type {expected}",
                    shown(value)
                ),
            );
        }
        ok
    }

    fn check_scalar_bounds(&mut self, schema: &Value, value: &Value, path: &str) {
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                let listed: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
                self.violation(
                    path,
                    format!(
                        "Unsupported value: {}: supported values: {}",
                        shown(value),
                        listed.join(", ")
                    ),
                );
            }
        }
        if let Some(number) = value.as_f64() {
            self.check_number(schema, number, value, path);
        }
        if let Some(text) = value.as_str() {
            self.check_string(schema, text, path);
        }
    }

    fn check_number(&mut self, schema: &Value, number: f64, value: &Value, path: &str) {
        let exclusive = |key| schema.get(key).and_then(Value::as_bool) == Some(true);
        if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64) {
            let below = if exclusive("exclusiveMinimum") {
                number <= minimum
            } else {
                number < minimum
            };
            if below {
                self.violation(
                    path,
                    format!("Invalid value: {value}: {path} in body should be greater than or equal to {minimum}"),
                );
            }
        }
        if let Some(maximum) = schema.get("maximum").and_then(Value::as_f64) {
            let above = if exclusive("exclusiveMaximum") {
                number >= maximum
            } else {
                number > maximum
            };
            if above {
                self.violation(
                    path,
                    format!("Invalid value: {value}: {path} in body should be less than or equal to {maximum}"),
                );
            }
        }
        let range = match schema.get("format").and_then(Value::as_str) {
            Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
            Some("uint32") => Some((0.0, f64::from(u32::MAX))),
            _ => None,
        };
        if let Some((low, high)) = range {
            if number < low || number > high {
                self.violation(
                    path,
                    format!("Invalid value: {value}: {path} in body does not fit its format"),
                );
            }
        }
    }

    fn check_string(&mut self, schema: &Value, text: &str, path: &str) {
        let length = text.chars().count() as u64;
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if length > max {
                self.violation(path, format!("Too long: may not be more than {max} bytes"));
            }
        }
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if length < min {
                self.violation(
                    path,
                    format!("Invalid value: {text:?}: {path} in body should be at least {min} chars long"),
                );
            }
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            let regex = self
                .regexes
                .entry(pattern.to_owned())
                .or_insert_with(|| Regex::new(pattern).ok());
            if let Some(regex) = regex {
                if !regex.is_match(text) {
                    self.violation(
                        path,
                        format!("Invalid value: {text:?}: {path} in body should match '{pattern}'"),
                    );
                }
            }
        }
    }

    fn check_object(&mut self, schema: &Value, map: &Map<String, Value>, path: &str, root: bool) {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for field in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(field) {
                    self.violation(&child(path, field), "Required value".into());
                }
            }
        }
        let count = map.len() as u64;
        if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64) {
            if count > max {
                self.violation(
                    path,
                    format!("Too many: {count}: must have at most {max} items"),
                );
            }
        }
        if let Some(min) = schema.get("minProperties").and_then(Value::as_u64) {
            if count < min {
                self.violation(
                    path,
                    format!("Too few: {count}: must have at least {min} items"),
                );
            }
        }
        let preserve = schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true);
        let additional = schema.get("additionalProperties");
        for (field, value) in map {
            let field_path = child(path, field);
            if let Some(field_schema) = properties.and_then(|p| p.get(field)) {
                self.check(field_schema, value, &field_path, false);
                continue;
            }
            // apiVersion, kind and metadata are the API server's, checked by it, not the CRD.
            if root && matches!(field.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match additional {
                Some(Value::Object(_)) => {
                    if let Some(schema) = additional {
                        self.check(schema, value, &field_path, false);
                    }
                }
                Some(Value::Bool(true)) => {}
                _ if preserve || !self.refuse_unknown_fields => {}
                _ => self.violation(&field_path, format!("unknown field \"{field}\"")),
            }
        }
    }

    fn check_array(&mut self, schema: &Value, items: &[Value], path: &str) {
        let count = items.len() as u64;
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if count > max {
                self.violation(
                    path,
                    format!("Too many: {count}: must have at most {max} items"),
                );
            }
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if count < min {
                self.violation(
                    path,
                    format!("Too few: {count}: must have at least {min} items"),
                );
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{path}[{i}]"), false);
            }
        }
        match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => {
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    if !seen.insert(item.to_string()) {
                        self.violation(&format!("{path}[{i}]"), format!("Duplicate value: {item}"));
                    }
                }
            }
            Some("map") => {
                let keys: Vec<&str> = schema
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| keys.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let key: Vec<String> = keys
                        .iter()
                        .map(|k| item.get(k).map(Value::to_string).unwrap_or_default())
                        .collect();
                    if !seen.insert(key.clone()) {
                        self.violation(
                            &format!("{path}[{i}]"),
                            format!("Duplicate value: {}", key.join(", ")),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// `oneOf`, `anyOf`, `allOf` and `not`: Istio's CRDs use them to make fields mutually
    /// exclusive, with alternatives that only list required fields.
    fn check_combinators(&mut self, schema: &Value, value: &Value, path: &str) {
        if let Some(alternatives) = schema.get("oneOf").and_then(Value::as_array) {
            let matching = alternatives
                .iter()
                .filter(|alt| matches(alt, value))
                .count();
            if matching != 1 {
                let fields = required_fields(alternatives);
                let message = if matching == 0 {
                    "must validate one and only one schema (oneOf). Found none valid".to_owned()
                } else if fields.is_empty() {
                    format!("must validate one and only one schema (oneOf). Found {matching} valid alternatives")
                } else {
                    format!("only one of {} may be set", fields.join(", "))
                };
                self.violation(path, message);
            }
        }
        if let Some(alternatives) = schema.get("anyOf").and_then(Value::as_array) {
            if !alternatives.iter().any(|alt| matches(alt, value)) {
                self.violation(path, "must validate at least one schema (anyOf)".to_owned());
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            let structural = std::mem::replace(&mut self.refuse_unknown_fields, false);
            for sub in all {
                self.check(sub, value, path, false);
            }
            self.refuse_unknown_fields = structural;
        }
        if let Some(not) = schema.get("not") {
            if matches(not, value) {
                self.violation(path, "must not validate the schema (not)".to_owned());
            }
        }
    }

    fn check_rules(&mut self, schema: &Value, value: &Value, path: &str) {
        let Some(rules) = schema
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
        else {
            return;
        };
        for rule in rules {
            let Some(text) = rule.get("rule").and_then(Value::as_str) else {
                continue;
            };
            let message = rule
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("failed rule: {text}"));
            // The API server names the value's schema type, not the value, in CEL failures.
            let value_type = schema
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("object");
            match cel::holds(text, value) {
                Ok(true) => {}
                Ok(false) => {
                    self.violation(path, format!("Invalid value: \"{value_type}\": {message}"))
                }
                Err(CelError::Evaluation(reason)) => self.violation(
                    path,
                    format!("Invalid value: \"{value_type}\": {message} ({reason})"),
                ),
                Err(CelError::Unsupported { .. }) => {
                    self.verdict.unchecked_rules.push(format!("{path}: {text}"));
                }
            }
        }
    }
}

/// Whether `value` satisfies `schema`, for the alternatives of `oneOf`/`anyOf`/`not`.
fn matches(schema: &Value, value: &Value) -> bool {
    let mut checker = Checker {
        refuse_unknown_fields: false,
        ..Checker::structural()
    };
    checker.check(schema, value, "", false);
    checker.verdict.violations.is_empty()
}

/// The fields the alternatives of a `oneOf` require, for a message that names them.
fn required_fields(alternatives: &[Value]) -> Vec<String> {
    let mut fields = Vec::new();
    for alternative in alternatives {
        for field in alternative
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !fields.iter().any(|f| f == field) {
                fields.push(field.to_owned());
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A small CRD shaped like Istio's, with the constructs they use.
    fn crd() -> Value {
        let route = json!({"type": "array", "items": {
            "type": "object",
            "required": ["destination"],
            "properties": {
                "destination": {"type": "object", "properties": {
                    "host": {"type": "string"},
                    "port": {"type": "object", "properties": {"number": {"type": "integer", "maximum": 4294967295.0, "minimum": 0.0}}}
                }},
                "weight": {"type": "integer", "format": "int32"},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        }});
        let uri = json!({
            "type": "object",
            "oneOf": [
                {"not": {"anyOf": [{"required": ["exact"]}, {"required": ["prefix"]}]}},
                {"required": ["exact"]},
                {"required": ["prefix"]}
            ],
            "properties": {"exact": {"type": "string"}, "prefix": {"type": "string"}}
        });
        let http = json!({
            "type": "object",
            "properties": {
                "timeout": {"type": "string", "x-kubernetes-validations": [
                    {"rule": "duration(self) >= duration('1ms')", "message": "must be a valid duration greater than 1ms"}
                ]},
                "uri": uri,
                "route": route,
                                        "mode": {"type": "string", "enum": ["A", "B"]},
                                        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                        "port": {"x-kubernetes-int-or-string": true},
                                        "name": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
                                        "custom": {"type": "string", "x-kubernetes-validations": [{"rule": "self.matches('x')"}]}
            }
        });
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {
                "group": "networking.istio.io",
                "names": {"kind": "VirtualService"},
                "versions": [{
                    "name": "v1", "served": true,
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {"spec": {
                            "type": "object",
                            "required": ["hosts"],
                            "properties": {
                                "hosts": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                                "http": {"type": "array", "maxItems": 2, "items": http}
                            }
                        }}
                    }}
                }, {"name": "v1alpha1", "served": false, "schema": {"openAPIV3Schema": {}}}]
            }
        })
    }

    fn verdict(spec: Value) -> Verdict {
        let schemas = CrdSchemas::from_crds([&crd()]).unwrap();
        schemas
            .validate(&json!({
                "apiVersion": "networking.istio.io/v1",
                "kind": "VirtualService",
                "metadata": {"name": "reviews", "namespace": "bookinfo"},
                "spec": spec
            }))
            .unwrap()
    }

    fn messages(spec: Value) -> Vec<String> {
        verdict(spec)
            .violations
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_valid_object_has_no_violations() {
        let spec = json!({
            "hosts": ["reviews"],
            "http": [{
                "timeout": "1.5s",
                "uri": {"prefix": "/api"},
                "route": [{"destination": {"host": "reviews", "port": {"number": 9080}}, "weight": 80,
                           "headers": {"x": "y"}}],
                "mode": "A",
                "extra": {"anything": [1, 2]},
                "port": "http",
                "name": "abc"
            }]
        });
        assert_eq!(verdict(spec), Verdict::default());
    }

    #[test]
    fn each_kind_of_violation_is_named_at_its_field() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("missing required", json!({}), "spec.hosts: Required value"),
            ("wrong type", json!({"hosts": "reviews"}), "spec.hosts: Invalid value: \"reviews\": spec.hosts in body must be of type array"),
            ("duplicate in a set", json!({"hosts": ["a", "a"]}), "spec.hosts[1]: Duplicate value: \"a\""),
            ("too many items", json!({"hosts": ["a"], "http": [{}, {}, {}]}), "spec.http: Too many: 3: must have at most 2 items"),
            ("unknown field", json!({"hosts": ["a"], "htp": []}), "spec.htp: unknown field \"htp\""),
            ("CEL rule", json!({"hosts": ["a"], "http": [{"timeout": "0.5ms"}]}), "spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms"),
            ("CEL rule on a bad duration", json!({"hosts": ["a"], "http": [{"timeout": "soon"}]}), "spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms (\"soon\" is not a duration)"),
            ("oneOf", json!({"hosts": ["a"], "http": [{"uri": {"exact": "/", "prefix": "/"}}]}), "spec.http[0].uri: only one of exact, prefix may be set"),
            ("int32", json!({"hosts": ["a"], "http": [{"route": [{"destination": {}, "weight": 3_000_000_000u64}]}]}), "spec.http[0].route[0].weight: Invalid value: 3000000000: spec.http[0].route[0].weight in body does not fit its format"),
            ("maximum", json!({"hosts": ["a"], "http": [{"route": [{"destination": {"port": {"number": 5_000_000_000u64}}}]}]}), "spec.http[0].route[0].destination.port.number: Invalid value: 5000000000: spec.http[0].route[0].destination.port.number in body should be less than or equal to 4294967295"),
            ("enum", json!({"hosts": ["a"], "http": [{"mode": "C"}]}), "spec.http[0].mode: Unsupported value: \"C\": supported values: \"A\", \"B\""),
            ("map values", json!({"hosts": ["a"], "http": [{"route": [{"destination": {}, "headers": {"x": 1}}]}]}), "spec.http[0].route[0].headers.x: Invalid value: 1: spec.http[0].route[0].headers.x in body must be of type string"),
            ("int-or-string", json!({"hosts": ["a"], "http": [{"port": true}]}), "spec.http[0].port: Invalid value: true: must be an integer or a string"),
            ("pattern", json!({"hosts": ["a"], "http": [{"name": "AB"}]}), "spec.http[0].name: Invalid value: \"AB\": spec.http[0].name in body should match '^[a-z]+$'"),
            ("maxLength", json!({"hosts": ["a"], "http": [{"name": "abcdef"}]}), "spec.http[0].name: Too long: may not be more than 5 bytes"),
            ("null", json!({"hosts": null}), "spec.hosts: Invalid value: null: must not be null"),
        ];
        for (name, spec, expected) in cases {
            let got = messages(spec);
            assert_eq!(got, vec![expected.to_owned()], "{name}");
        }
    }

    #[test]
    fn rules_meshtui_cannot_evaluate_are_left_to_the_server_and_listed() {
        let verdict = verdict(json!({"hosts": ["a"], "http": [{"custom": "x"}]}));
        assert!(verdict.violations.is_empty());
        assert_eq!(
            verdict.unchecked_rules,
            vec!["spec.http[0].custom: self.matches('x')"]
        );
    }

    #[test]
    fn the_embedded_istio_schemas_are_read_and_every_cel_rule_of_the_kinds_meshtui_writes_is_evaluated(
    ) {
        let schemas = CrdSchemas::embedded();
        for kind in ["VirtualService", "DestinationRule"] {
            for version in ["v1", "v1beta1", "v1alpha3"] {
                let object = json!({
                    "apiVersion": format!("networking.istio.io/{version}"),
                    "kind": kind,
                    "spec": {}
                });
                assert!(schemas.validate(&object).is_ok(), "{kind} {version}");
            }
        }
        let telemetry =
            json!({"apiVersion": "telemetry.istio.io/v1", "kind": "Telemetry", "spec": {}});
        assert!(schemas.validate(&telemetry).is_ok());
        // Every rule of these kinds parses and runs: none is left unchecked.
        let mut rules = Vec::new();
        for key in schemas.schemas.keys() {
            if ["VirtualService", "DestinationRule", "Telemetry"].contains(&key.1.as_str()) {
                collect_rules(&schemas.schemas[key], &mut rules);
            }
        }
        assert!(rules.len() > 50, "{}", rules.len());
        for rule in rules {
            let result = crate::mesh::rules::cel::holds(&rule, &json!("1s"))
                .or_else(|_| crate::mesh::rules::cel::holds(&rule, &json!({"k": "v"})))
                .or_else(|_| {
                    crate::mesh::rules::cel::holds(
                        &rule,
                        &json!({"operation": "UPSERT", "value": "x"}),
                    )
                })
                .or_else(|_| crate::mesh::rules::cel::holds(&rule, &json!([])));
            assert!(
                !matches!(result, Err(CelError::Unsupported { .. })),
                "{rule}: {result:?}"
            );
        }
    }

    fn collect_rules(schema: &Value, rules: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                for rule in map
                    .get("x-kubernetes-validations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(text) = rule.get("rule").and_then(Value::as_str) {
                        rules.push(text.to_owned());
                    }
                }
                for value in map.values() {
                    collect_rules(value, rules);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect_rules(item, rules)),
            _ => {}
        }
    }

    #[test]
    fn versions_the_cluster_does_not_serve_have_no_schema() {
        let schemas = CrdSchemas::from_crds([&crd()]).unwrap();
        let error = schemas
            .validate(&json!({"apiVersion": "networking.istio.io/v1alpha1", "kind": "VirtualService", "spec": {}}))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "no schema for VirtualService in networking.istio.io/v1alpha1: the cluster does not serve it"
        );
    }
}
