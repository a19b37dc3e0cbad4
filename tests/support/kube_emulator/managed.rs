//! Field ownership, as the API server's field manager keeps it in `metadata.managedFields`:
//! an entry per manager and operation (`Apply` for server-side apply, `Update` for every
//! other write, which also keys on the apiVersion used); apply merges the configuration,
//! removes what the manager stopped applying unless someone else owns it, and refuses to
//! change fields other managers own unless forced; updates take what they change.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::fields::{describe, path, FieldSet, Path};
use super::typed::{self, field_set, Schema};
use super::wire::now_rfc3339;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: String,
    pub fields: FieldSet,
}

impl Entry {
    fn same_owner(&self, manager: &str, operation: &str, api_version: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.is_empty()
            // Appliers keep one entry whatever version they apply at; updaters get one per
            // version.
            && (operation == "Apply" || self.api_version == api_version)
    }

    /// How conflicts name the manager: `"kubectl"`, and for updaters `"kubectl-edit"
    /// using networking.istio.io/v1`.
    fn label(&self) -> String {
        let mut label = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            label.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == "Update" {
            label.push_str(&format!(" using {}", self.api_version));
        }
        label
    }
}

pub fn decode(object: &Value) -> Vec<Entry> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| Entry {
            manager: entry["manager"].as_str().unwrap_or_default().to_owned(),
            operation: entry["operation"].as_str().unwrap_or_default().to_owned(),
            api_version: entry["apiVersion"].as_str().unwrap_or_default().to_owned(),
            time: entry["time"].as_str().unwrap_or_default().to_owned(),
            subresource: entry["subresource"].as_str().unwrap_or_default().to_owned(),
            fields: FieldSet::from_fields_v1(&entry["fieldsV1"]),
        })
        .collect()
}

/// The entries as the API server writes them: appliers first, then by time, manager and
/// version.
pub fn encode(entries: &[Entry]) -> Value {
    let mut sorted: Vec<&Entry> = entries.iter().filter(|e| !e.fields.is_empty()).collect();
    sorted.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    Value::Array(
        sorted
            .into_iter()
            .map(|entry| {
                let mut value = json!({
                    "manager": entry.manager,
                    "operation": entry.operation,
                    "apiVersion": entry.api_version,
                    "time": entry.time,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": entry.fields.to_fields_v1(),
                });
                if !entry.subresource.is_empty() {
                    value["subresource"] = json!(entry.subresource);
                }
                value
            })
            .collect(),
    )
}

/// Fields nobody owns: the object's identity and what the server sets, and `status`,
/// which the main resource does not write (Istio's kinds have a status subresource).
fn strip(set: &FieldSet) -> FieldSet {
    let mut stripped = FieldSet::default();
    for exact in [
        &["apiVersion"][..],
        &["kind"],
        &["metadata"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &["metadata", "creationTimestamp"],
        &["metadata", "selfLink"],
        &["metadata", "uid"],
        &["metadata", "clusterName"],
        &["metadata", "generation"],
        &["metadata", "managedFields"],
        &["metadata", "resourceVersion"],
    ] {
        stripped.insert(path(exact));
    }
    // The root itself: an object is never owned whole.
    stripped.insert(Vec::new());
    set.difference(&stripped).without_tree(&path(&["status"]))
}

/// One field another manager owns, that a write would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// `"kubectl-edit" using networking.istio.io/v1`.
    pub manager: String,
    /// `.spec.http`.
    pub field: String,
}

/// A write by `manager`: the object as it would be stored and the owners after it.
pub struct Outcome {
    pub object: Value,
    pub entries: Vec<Entry>,
}

/// Takes away from the other managers what the change from `live` to `new` touches:
/// the fields it changes (conflicts, unless `force`) and those it removes.
fn settle(
    live: &Value,
    new: &Value,
    schema: Schema<'_>,
    entries: &mut [Entry],
    acting: usize,
    force: bool,
) -> Result<(), Vec<Conflict>> {
    let comparison = typed::compare(live, new, schema);
    let changed = strip(&comparison.changed());
    let removed = strip(&comparison.removed);
    let mut conflicts = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if i == acting {
            continue;
        }
        for field in entry.fields.intersection(&changed).iter() {
            conflicts.push(Conflict {
                manager: entry.label(),
                field: describe(field),
            });
        }
    }
    if !force && !conflicts.is_empty() {
        conflicts.sort_by(|a, b| (&a.manager, &a.field).cmp(&(&b.manager, &b.field)));
        return Err(conflicts);
    }
    for (i, entry) in entries.iter_mut().enumerate() {
        if i != acting {
            entry.fields = entry.fields.difference(&changed).difference(&removed);
        }
    }
    Ok(())
}

fn position(entries: &mut Vec<Entry>, manager: &str, operation: &str, api_version: &str) -> usize {
    match entries
        .iter()
        .position(|e| e.same_owner(manager, operation, api_version))
    {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: manager.to_owned(),
                operation: operation.to_owned(),
                api_version: api_version.to_owned(),
                time: String::new(),
                subresource: String::new(),
                fields: FieldSet::default(),
            });
            entries.len() - 1
        }
    }
}

/// Server-side apply of `config` by `manager` to `live` (an empty object when creating).
pub fn apply(
    live: &Value,
    config: &Value,
    schema: Schema<'_>,
    mut entries: Vec<Entry>,
    manager: &str,
    api_version: &str,
    force: bool,
) -> Result<Outcome, Vec<Conflict>> {
    let merged = typed::merge(live, config, schema);
    let acting = position(&mut entries, manager, "Apply", api_version);
    let last = entries[acting].fields.clone();
    let applied = strip(&field_set(config, schema));
    entries[acting].fields = applied;
    entries[acting].api_version = api_version.to_owned();
    let owned = entries
        .iter()
        .fold(FieldSet::default(), |all, e| all.union(&e.fields));
    let object = prune(&merged, &last, &owned, schema);
    settle(live, &object, schema, &mut entries, acting, force)?;
    // A no-op apply leaves the object, and the time of its entry, as they were.
    if object != *live || entries[acting].time.is_empty() {
        entries[acting].time = now_rfc3339();
    }
    Ok(Outcome { object, entries })
}

/// Any other write (create, update, merge patch) by `manager`: it owns what it changed.
pub fn update(
    live: &Value,
    new: &Value,
    schema: Schema<'_>,
    mut entries: Vec<Entry>,
    manager: &str,
    api_version: &str,
) -> Vec<Entry> {
    let acting = position(&mut entries, manager, "Update", api_version);
    // Updates take over what they change: they never conflict.
    let _ = settle(live, new, schema, &mut entries, acting, true);
    let comparison = typed::compare(live, new, schema);
    let owner = &mut entries[acting];
    owner.fields = strip(
        &owner
            .fields
            .union(&comparison.changed())
            .difference(&comparison.removed),
    );
    if !comparison.changed().is_empty() || !comparison.removed.is_empty() {
        owner.time = now_rfc3339();
    }
    entries
}

/// Removes what the manager applied last time and no longer does, unless another manager
/// (or the manager's new configuration) owns it; objects emptied by that go too.
fn prune(merged: &Value, last: &FieldSet, owned: &FieldSet, schema: Schema<'_>) -> Value {
    let mut pruned = merged.clone();
    let gone: Vec<&Path> = last.iter().filter(|p| !owned.touches(p)).collect();
    for path in gone.iter().rev() {
        typed::remove(&mut pruned, path, schema);
    }
    let parents: BTreeSet<Path> = gone
        .iter()
        .flat_map(|p| (1..p.len()).map(|n| p[..n].to_vec()))
        .filter(|p| p.last().is_some_and(|s| s.starts_with("f:")))
        .collect();
    let mut parents: Vec<Path> = parents.into_iter().collect();
    parents.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for parent in parents {
        let emptied = typed::lookup(&pruned, &parent, schema).is_some_and(is_empty)
            && typed::lookup(merged, &parent, schema).is_some_and(|v| !is_empty(v));
        if emptied && !owned.touches(&parent) {
            typed::remove(&mut pruned, &parent, schema);
        }
    }
    pruned
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}
