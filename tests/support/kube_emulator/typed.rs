//! Objects seen through their schema, as server-side apply sees them: which objects are
//! structs (declared fields) or maps, which lists are atomic (a CRD's lists are, unless
//! they say `x-kubernetes-list-type`), sets or maps keyed by fields. On top of that, the
//! walks apply needs: the fields an object sets, the difference of two objects, the merge
//! of an applied configuration into an object, removal of fields, and the pruning of
//! fields the schema does not know.

use serde_json::{json, Map, Value};

use super::fields::{field, FieldSet, Path};

/// A node's schema; `None` for parts without one (kinds the emulator has no schema for,
/// `x-kubernetes-preserve-unknown-fields`), which apply treats as maps and atomic lists.
#[derive(Debug, Clone, Copy)]
pub struct Schema<'s>(Option<&'s Value>);

pub enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

impl<'s> Schema<'s> {
    pub fn new(schema: &'s Value) -> Self {
        Schema(Some(schema))
    }

    fn get(&self, key: &str) -> Option<&'s Value> {
        self.0?.get(key)
    }

    /// The schema of `key` in an object, and whether the schema declares it as a field
    /// (rather than as an entry of a map).
    pub fn field(&self, key: &str) -> (Schema<'s>, bool) {
        if let Some(declared) = self.get("properties").and_then(|p| p.get(key)) {
            return (Schema(Some(declared)), true);
        }
        match self.get("additionalProperties") {
            Some(entries) if entries.is_object() => (Schema(Some(entries)), false),
            _ => (Schema(None), false),
        }
    }

    pub fn items(&self) -> Schema<'s> {
        Schema(self.get("items"))
    }

    pub fn atomic_map(&self) -> bool {
        self.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
    }

    pub fn list(&self) -> ListType {
        match self.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListType::Set,
            Some("map") => ListType::Map(
                self.get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| {
                        keys.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ListType::Atomic,
        }
    }

    /// Whether fields the schema does not declare survive (pruning drops the others).
    fn keeps_unknown(&self) -> bool {
        match self.0 {
            None => true,
            Some(schema) => {
                schema
                    .get("x-kubernetes-preserve-unknown-fields")
                    .and_then(Value::as_bool)
                    == Some(true)
                    || schema.get("additionalProperties").is_some()
            }
        }
    }
}

/// The step to a list item: by its keys, as a set member, or by position.
pub fn item_step(list: &ListType, item: &Value, index: usize) -> String {
    match list {
        ListType::Set => format!("v:{item}"),
        ListType::Map(keys) => {
            let mut key = Map::new();
            for name in keys {
                if let Some(value) = item.get(name) {
                    key.insert(name.clone(), value.clone());
                }
            }
            format!("k:{}", Value::Object(key))
        }
        ListType::Atomic => format!("i:{index}"),
    }
}

/// The fields an (applied) object sets: its scalars and atomic lists, the items of sets
/// and keyed lists, map entries, and empty or null fields.
pub fn field_set(value: &Value, schema: Schema<'_>) -> FieldSet {
    let mut set = FieldSet::default();
    walk_set(value, schema, &mut Vec::new(), &mut set);
    set
}

fn walk_set(value: &Value, schema: Schema<'_>, at: &mut Path, set: &mut FieldSet) {
    match value {
        Value::Object(map) => {
            if schema.atomic_map() {
                set.insert(at.clone());
                return;
            }
            for (key, child) in map {
                let (child_schema, declared) = schema.field(key);
                at.push(field(key));
                walk_set(child, child_schema, at, set);
                let empty = child.is_null() || child.as_object().is_some_and(Map::is_empty);
                if empty || !declared {
                    set.insert(at.clone());
                }
                at.pop();
            }
        }
        Value::Array(items) => match schema.list() {
            ListType::Atomic => set.insert(at.clone()),
            list => {
                for (i, item) in items.iter().enumerate() {
                    at.push(item_step(&list, item, i));
                    walk_set(item, schema.items(), at, set);
                    set.insert(at.clone());
                    at.pop();
                }
            }
        },
        _ => set.insert(at.clone()),
    }
}

/// What changed from one object to the next: fields added, changed and removed. A new
/// object or list item counts as added itself, besides everything under it.
#[derive(Debug, Default)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    pub fn changed(&self) -> FieldSet {
        self.added.union(&self.modified)
    }
}

pub fn compare(lhs: &Value, rhs: &Value, schema: Schema<'_>) -> Comparison {
    let mut comparison = Comparison::default();
    walk_compare(
        Some(lhs),
        Some(rhs),
        schema,
        &mut Vec::new(),
        &mut comparison,
    );
    comparison
}

fn leaf(lhs: Option<&Value>, rhs: Option<&Value>, at: &Path, comparison: &mut Comparison) {
    match (lhs, rhs) {
        (None, Some(_)) => comparison.added.insert(at.clone()),
        (Some(_), None) => comparison.removed.insert(at.clone()),
        (Some(l), Some(r)) if l != r => comparison.modified.insert(at.clone()),
        _ => {}
    }
}

fn walk_compare(
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    schema: Schema<'_>,
    at: &mut Path,
    comparison: &mut Comparison,
) {
    let all_objects = [lhs, rhs].iter().flatten().all(|v| v.is_object());
    let all_arrays = [lhs, rhs].iter().flatten().all(|v| v.is_array());
    if all_objects {
        let l = lhs.and_then(Value::as_object);
        let r = rhs.and_then(Value::as_object);
        let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
        if schema.atomic_map() || empty {
            return leaf(lhs, rhs, at, comparison);
        }
        let mut keys: Vec<&String> = l.into_iter().flat_map(Map::keys).collect();
        keys.extend(r.into_iter().flat_map(Map::keys));
        keys.sort();
        keys.dedup();
        for key in keys {
            at.push(field(key));
            walk_compare(
                l.and_then(|m| m.get(key)),
                r.and_then(|m| m.get(key)),
                schema.field(key).0,
                at,
                comparison,
            );
            at.pop();
        }
    } else if all_arrays {
        let list = schema.list();
        let l = items_by_step(&list, lhs);
        let r = items_by_step(&list, rhs);
        if matches!(list, ListType::Atomic) || (l.is_empty() && r.is_empty()) {
            return leaf(lhs, rhs, at, comparison);
        }
        let mut steps: Vec<&String> = l.iter().map(|(s, _)| s).collect();
        steps.extend(r.iter().map(|(s, _)| s));
        steps.sort();
        steps.dedup();
        for step in steps {
            at.push(step.clone());
            walk_compare(
                find_item(&l, step),
                find_item(&r, step),
                schema.items(),
                at,
                comparison,
            );
            at.pop();
        }
    } else {
        return leaf(lhs, rhs, at, comparison);
    }
    match (lhs, rhs) {
        (None, Some(_)) => comparison.added.insert(at.clone()),
        (Some(_), None) => comparison.removed.insert(at.clone()),
        _ => {}
    }
}

fn find_item<'v>(items: &[(String, &'v Value)], step: &str) -> Option<&'v Value> {
    items.iter().find(|(s, _)| s == step).map(|(_, v)| *v)
}

fn items_by_step<'v>(list: &ListType, value: Option<&'v Value>) -> Vec<(String, &'v Value)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, item)| (item_step(list, item, i), item))
        .collect()
}

/// `config` merged into `live`: fields of structs and maps one by one, items of keyed
/// lists and sets by key (kept where they are; new ones at the end), everything else
/// (scalars, atomic lists) taken whole from `config`.
pub fn merge(live: &Value, config: &Value, schema: Schema<'_>) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(r)) if !schema.atomic_map() => {
            let mut out = l.clone();
            for (key, value) in r {
                let merged = match l.get(key) {
                    Some(current) => merge(current, value, schema.field(key).0),
                    None => value.clone(),
                };
                out.insert(key.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(_), Value::Array(_)) => {
            let list = schema.list();
            if matches!(list, ListType::Atomic) {
                return config.clone();
            }
            let l = items_by_step(&list, Some(live));
            let r = items_by_step(&list, Some(config));
            let mut out: Vec<Value> = l
                .iter()
                .map(|(step, item)| match r.iter().find(|(s, _)| s == step) {
                    Some((_, applied)) => merge(item, applied, schema.items()),
                    None => (*item).clone(),
                })
                .collect();
            out.extend(
                r.iter()
                    .filter(|(step, _)| !l.iter().any(|(s, _)| s == step))
                    .map(|(_, item)| (*item).clone()),
            );
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// The value at `path`, if there is one.
pub fn lookup<'v>(value: &'v Value, path: &[String], schema: Schema<'_>) -> Option<&'v Value> {
    let Some((step, rest)) = path.split_first() else {
        return Some(value);
    };
    match value {
        Value::Object(map) => {
            let name = step.strip_prefix("f:")?;
            lookup(map.get(name)?, rest, schema.field(name).0)
        }
        Value::Array(items) => {
            let list = schema.list();
            let item = items
                .iter()
                .enumerate()
                .find(|(i, item)| item_step(&list, item, *i) == *step)?
                .1;
            lookup(item, rest, schema.items())
        }
        _ => None,
    }
}

/// Removes the field or item at `path`; nothing when it is not there.
pub fn remove(value: &mut Value, path: &[String], schema: Schema<'_>) {
    let Some((step, rest)) = path.split_first() else {
        return;
    };
    match value {
        Value::Object(map) => {
            let Some(name) = step.strip_prefix("f:") else {
                return;
            };
            if rest.is_empty() {
                map.remove(name);
            } else if let Some(child) = map.get_mut(name) {
                remove(child, rest, schema.field(name).0);
            }
        }
        Value::Array(items) => {
            let list = schema.list();
            let Some(position) = items
                .iter()
                .enumerate()
                .position(|(i, item)| item_step(&list, item, i) == *step)
            else {
                return;
            };
            if rest.is_empty() {
                items.remove(position);
            } else {
                remove(&mut items[position], rest, schema.items());
            }
        }
        _ => {}
    }
}

/// Drops the fields a structural schema does not know, as the API server prunes them.
pub fn drop_unknown(value: &mut Value, schema: Schema<'_>) {
    match value {
        Value::Object(map) => {
            if !schema.keeps_unknown() {
                map.retain(|key, _| schema.field(key).1);
            }
            for (key, child) in map.iter_mut() {
                drop_unknown(child, schema.field(key).0);
            }
        }
        Value::Array(items) => {
            for item in items {
                drop_unknown(item, schema.items());
            }
        }
        _ => {}
    }
}

/// The schema of `metadata`, which the API server owns for every kind: labels and
/// annotations are maps, finalizers a set, owner references a list keyed by uid.
pub fn object_meta() -> Value {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    json!({
        "type": "object",
        "properties": {
            "name": string, "generateName": string, "namespace": string, "selfLink": string,
            "uid": string, "resourceVersion": string, "generation": integer,
            "creationTimestamp": string, "deletionTimestamp": string,
            "deletionGracePeriodSeconds": integer,
            "labels": {"type": "object", "additionalProperties": string},
            "annotations": {"type": "object", "additionalProperties": string},
            "finalizers": {"type": "array", "items": string, "x-kubernetes-list-type": "set"},
            "ownerReferences": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["uid"],
                "items": {"type": "object", "properties": {
                    "apiVersion": string, "kind": string, "name": string, "uid": string,
                    "controller": {"type": "boolean"}, "blockOwnerDeletion": {"type": "boolean"}
                }}
            },
            "managedFields": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
        }
    })
}

/// A kind's whole schema: its CRD's `openAPIV3Schema` (or none: every field kept, maps
/// granular, lists atomic) with `apiVersion`, `kind` and `metadata` declared.
pub fn root_schema(crd_schema: Option<&Value>) -> Value {
    let mut root = crd_schema
        .cloned()
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if let Some(map) = root.as_object_mut() {
        let properties = map.entry("properties").or_insert_with(|| json!({}));
        if let Some(properties) = properties.as_object_mut() {
            properties.insert("apiVersion".into(), json!({"type": "string"}));
            properties.insert("kind".into(), json!({"type": "string"}));
            properties.insert("metadata".into(), object_meta());
        }
    }
    root
}
