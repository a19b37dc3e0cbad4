//! The demo's own Kubernetes API for Istio routing: VirtualServices and DestinationRules
//! kept as JSON, with the metadata an API server adds (uid, resourceVersion, generation,
//! creationTimestamp, managedFields). It starts empty: Bookinfo's default routing, every
//! version alike. The simulation reads it at every step; the demo's writer changes it.
//!
//! Time is the simulation's, and uids come from the seed, so runs repeat exactly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use fastrand::Rng;
use serde_json::{json, Map, Value};

use crate::mesh::Inventory;

/// The kind, namespace and name that identify an object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn of(object: &Value) -> Self {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        ObjectKey {
            kind: text("/kind"),
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name"),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// Metadata the server owns: whatever a client sends there is replaced.
const SERVER_FIELDS: [&str; 5] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
];

#[derive(Debug, Clone)]
pub struct ConfigStore {
    objects: BTreeMap<ObjectKey, Value>,
    /// The last resourceVersion handed out; every write takes the next.
    last_version: u64,
    now_unix_s: f64,
    uids: Rng,
    /// The mesh's services and pods, for the checks a preview makes.
    inventory: Arc<Inventory>,
}

impl ConfigStore {
    fn new(seed: u64, now_unix_s: f64) -> Self {
        ConfigStore {
            objects: BTreeMap::new(),
            last_version: 1000,
            now_unix_s,
            uids: Rng::with_seed(seed ^ 0x00c0_ffee_5eed),
            inventory: Arc::new(Inventory::default()),
        }
    }

    /// Bumped by every write: readers compare it to know when to read again.
    pub fn revision(&self) -> u64 {
        self.last_version
    }

    pub fn set_now(&mut self, now_unix_s: f64) {
        self.now_unix_s = now_unix_s;
    }

    pub fn set_inventory(&mut self, inventory: Inventory) {
        self.inventory = Arc::new(inventory);
    }

    pub fn inventory(&self) -> Arc<Inventory> {
        Arc::clone(&self.inventory)
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Every object of a kind, oldest first (creation, then name): the order in which Istio
    /// lets the first of two rules for one host win.
    pub fn list(&self, kind: &str) -> Vec<Value> {
        let mut found: Vec<&Value> = self
            .objects
            .iter()
            .filter(|(key, _)| key.kind == kind)
            .map(|(_, object)| object)
            .collect();
        found.sort_by_key(|object| {
            let created = object
                .pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            (created, resource_version(object), ObjectKey::of(object))
        });
        found.into_iter().cloned().collect()
    }

    /// Stores `desired` as a server-side apply by `manager` would, and returns it with the
    /// metadata the server fills in. A dry-run applies to a copy of the store.
    pub fn apply(&mut self, desired: &Value, manager: &str) -> Value {
        let key = ObjectKey::of(desired);
        let current = self.objects.get(&key);
        let (mut body, mut metadata) = split_metadata(desired);
        let metadata = &mut metadata;
        let now = timestamp(self.now_unix_s);
        for field in SERVER_FIELDS {
            metadata.remove(field);
        }
        let version = self.last_version + 1;
        match current {
            Some(current) => {
                let spec_changed = current.get("spec") != desired.get("spec");
                let generation = generation(current) + u64::from(spec_changed);
                copy_field(current, metadata, "uid");
                copy_field(current, metadata, "creationTimestamp");
                metadata.insert("generation".into(), json!(generation));
            }
            None => {
                metadata.insert("uid".into(), json!(uid(&mut self.uids)));
                metadata.insert("creationTimestamp".into(), json!(now));
                metadata.insert("generation".into(), json!(1));
            }
        }
        metadata.insert("resourceVersion".into(), json!(version.to_string()));
        let others = current.map_or_else(Vec::new, |c| other_managers(c, manager));
        let entry = managed_entry(desired, manager, &now);
        metadata.insert(
            "managedFields".into(),
            Value::Array(others.into_iter().chain([entry]).collect()),
        );
        body.insert("metadata".into(), Value::Object(std::mem::take(metadata)));
        let object = Value::Object(body);
        self.last_version = version;
        self.objects.insert(key, object.clone());
        object
    }

    /// Puts back an object as it was (`before`), keeping what the server owns of the one
    /// now stored, or making it anew (new uid) when it was deleted.
    pub fn restore(&mut self, before: &Value) -> Value {
        let key = ObjectKey::of(before);
        let (mut body, mut metadata) = split_metadata(before);
        self.last_version += 1;
        let version = self.last_version.to_string();
        let now = timestamp(self.now_unix_s);
        let current = self.objects.get(&key);
        match current {
            Some(current) => {
                let spec_changed = current.get("spec") != before.get("spec");
                copy_field(current, &mut metadata, "uid");
                copy_field(current, &mut metadata, "creationTimestamp");
                let generation = generation(current) + u64::from(spec_changed);
                metadata.insert("generation".into(), json!(generation));
            }
            None => {
                metadata.insert("uid".into(), json!(uid(&mut self.uids)));
                metadata.insert("creationTimestamp".into(), json!(now));
                metadata.insert("generation".into(), json!(1));
            }
        }
        metadata.insert("resourceVersion".into(), json!(version));
        body.insert("metadata".into(), Value::Object(metadata));
        let object = Value::Object(body);
        self.objects.insert(key, object.clone());
        object
    }

    pub fn delete(&mut self, key: &ObjectKey) -> Option<Value> {
        let removed = self.objects.remove(key);
        if removed.is_some() {
            self.last_version += 1;
        }
        removed
    }
}

/// The store as the simulation and the writer share it.
#[derive(Debug, Clone)]
pub struct RuleStore(Arc<Mutex<ConfigStore>>);

impl RuleStore {
    pub fn new(seed: u64, now_unix_s: f64) -> Self {
        RuleStore(Arc::new(Mutex::new(ConfigStore::new(seed, now_unix_s))))
    }

    /// The store, locked. A writer that panicked mid-write cannot have left a torn object
    /// (every write replaces whole values), so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, ConfigStore> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The object without the metadata the server owns.
pub fn without_server_fields(object: &Value) -> Value {
    let (mut body, mut metadata) = split_metadata(object);
    for field in SERVER_FIELDS {
        metadata.remove(field);
    }
    body.insert("metadata".into(), Value::Object(metadata));
    Value::Object(body)
}

/// The object's fields but `metadata`, and `metadata` (empty when missing or malformed).
fn split_metadata(object: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let mut body = object.as_object().cloned().unwrap_or_default();
    let metadata = match body.remove("metadata") {
        Some(Value::Object(metadata)) => metadata,
        _ => Map::new(),
    };
    (body, metadata)
}

fn copy_field(from: &Value, to: &mut Map<String, Value>, field: &str) {
    if let Some(value) = from.get("metadata").and_then(|m| m.get(field)) {
        to.insert(field.into(), value.clone());
    }
}

pub fn resource_version(object: &Value) -> u64 {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn generation(object: &Value) -> u64 {
    object
        .pointer("/metadata/generation")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

fn other_managers(object: &Value, manager: &str) -> Vec<Value> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|entry| entry.get("manager").and_then(Value::as_str) != Some(manager))
        .cloned()
        .collect()
}

/// The managedFields entry of a server-side apply: the fields the applied object set,
/// as `f:` keys. Lists are owned whole (the demo does not track list items).
fn managed_entry(applied: &Value, manager: &str, now: &str) -> Value {
    let mut owned = Map::new();
    if let Some(labels) = applied.pointer("/metadata/labels") {
        owned.insert(
            "f:metadata".into(),
            json!({ "f:labels": field_set(labels) }),
        );
    }
    if let Some(spec) = applied.get("spec") {
        owned.insert("f:spec".into(), field_set(spec));
    }
    json!({
        "manager": manager,
        "operation": "Apply",
        "apiVersion": applied.get("apiVersion").cloned().unwrap_or(Value::Null),
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": Value::Object(owned),
    })
}

fn field_set(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, child)| (format!("f:{key}"), field_set(child)))
                .collect(),
        ),
        _ => json!({}),
    }
}

/// A version 4 UUID drawn from `rng`.
fn uid(rng: &mut Rng) -> String {
    let high = rng.u64(..);
    let low = rng.u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0x0fff,
        0x8000 | (low >> 48) & 0x3fff,
        low & 0xffff_ffff_ffff
    )
}

/// RFC 3339 in UTC, to the second, as Kubernetes writes timestamps.
pub fn timestamp(unix_s: f64) -> String {
    let secs = unix_s.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian date of a day number.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(weight_v1: u32) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "reviews", "namespace": "bookinfo",
                            "labels": {"app.kubernetes.io/managed-by": "meshtui"}},
               "spec": {"hosts": ["reviews"], "http": [{"route": [
                   {"destination": {"host": "reviews", "subset": "v1"}, "weight": weight_v1}]}]}})
    }

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        assert_eq!(timestamp(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_795_557_600.0), "2026-11-24T22:00:00Z");
    }

    #[test]
    fn a_created_object_gets_server_metadata_and_an_update_keeps_uid_and_bumps_generation() {
        let store = RuleStore::new(1, 1_795_557_600.0);
        let mut store = store.lock();
        let created = store.apply(&vs(100), "meshtui");
        assert_eq!(created["metadata"]["generation"], 1);
        assert_eq!(
            created["metadata"]["creationTimestamp"],
            "2026-11-24T22:00:00Z"
        );
        assert_eq!(
            created["metadata"]["managedFields"][0]["manager"],
            "meshtui"
        );
        assert_eq!(
            created["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:http"],
            json!({})
        );
        let version = resource_version(&created);
        store.set_now(1_795_557_700.0);
        let updated = store.apply(&vs(90), "meshtui");
        assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
        assert_eq!(updated["metadata"]["generation"], 2);
        assert_eq!(
            updated["metadata"]["creationTimestamp"],
            "2026-11-24T22:00:00Z"
        );
        assert!(resource_version(&updated) > version);
        let same = store.apply(&vs(90), "meshtui");
        assert_eq!(
            same["metadata"]["generation"], 2,
            "no spec change, same generation"
        );
    }

    #[test]
    fn restoring_a_deleted_object_makes_it_anew() {
        let store = RuleStore::new(1, 1_795_557_600.0);
        let mut store = store.lock();
        let created = store.apply(&vs(100), "meshtui");
        let key = ObjectKey::of(&created);
        assert!(store.delete(&key).is_some());
        let restored = store.restore(&created);
        assert_eq!(restored["spec"], created["spec"]);
        assert_ne!(restored["metadata"]["uid"], created["metadata"]["uid"]);
        assert_eq!(store.get(&key), Some(&restored));
    }
}
