//! The routing objects the writer handles: where the API serves them, how messages name
//! them, and the shapes sent: what meshtui applies (its configuration, not the server's
//! bookkeeping) and what undo puts back.

use kube::api::ApiResource;
use serde_json::{json, Map, Value};

use crate::mesh::inventory::IstioKind;
use crate::mesh::rules::object::str_of;
use crate::mesh::rules::render::ObjectChange;

use super::super::istio::api_resource;
use super::failure::Subject;

/// An annotation `kubectl apply` keeps its own bookkeeping in; meshtui leaves it to kubectl.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The kinds meshtui writes.
pub fn istio_kind(kind: &str) -> Option<IstioKind> {
    match kind {
        "VirtualService" => Some(IstioKind::VirtualService),
        "DestinationRule" => Some(IstioKind::DestinationRule),
        _ => None,
    }
}

/// The one kind meshtui writes outside Istio's networking group: the Telemetry that makes
/// proxies label operations.
pub const TELEMETRY: &str = "Telemetry";

/// Where the API serves Telemetry resources at `version`.
pub fn telemetry_resource(version: &str) -> ApiResource {
    ApiResource {
        group: "telemetry.istio.io".into(),
        version: version.to_owned(),
        api_version: format!("telemetry.istio.io/{version}"),
        kind: TELEMETRY.into(),
        plural: "telemetries".into(),
    }
}

/// The Telemetry version served beside networking's `version`: `v1` from Istio 1.22 on
/// (when networking also has `v1`), `v1alpha1` before.
pub fn telemetry_version(networking_version: &str) -> &'static str {
    if networking_version == "v1" {
        "v1"
    } else {
        "v1alpha1"
    }
}

/// Which object a change is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn of(object: &Value) -> Self {
        ObjectRef {
            kind: str_of(&object["kind"]).to_owned(),
            namespace: str_of(&object["metadata"]["namespace"]).to_owned(),
            name: str_of(&object["metadata"]["name"]).to_owned(),
        }
    }

    pub fn of_change(change: &ObjectChange) -> Self {
        match change {
            ObjectChange::Apply(object) => ObjectRef::of(object),
            ObjectChange::Delete {
                kind,
                namespace,
                name,
            } => ObjectRef {
                kind: kind.clone(),
                namespace: namespace.clone(),
                name: name.clone(),
            },
        }
    }

    /// `VirtualService bookinfo/reviews`.
    pub fn label(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    /// Where the API serves the object at `version`; `None` for kinds meshtui never writes.
    pub fn resource(&self, version: &str) -> Option<ApiResource> {
        if self.kind == TELEMETRY {
            return Some(telemetry_resource(version));
        }
        istio_kind(&self.kind).map(|kind| api_resource(kind, version))
    }

    pub fn subject(&self, verb: &'static str, resource: &ApiResource) -> Subject {
        Subject {
            verb,
            resource: format!("{}.{}", resource.plural, resource.group),
            namespace: self.namespace.clone(),
            object: self.label(),
        }
    }
}

/// The version in an object's `apiVersion` (`v1` of `networking.istio.io/v1`).
pub fn version_of(object: &Value) -> &str {
    str_of(&object["apiVersion"])
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// The object without `metadata.managedFields`, as previews show it.
pub fn without_managed_fields(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    object
}

fn non_empty(value: &Value) -> Option<Value> {
    value
        .as_object()
        .filter(|map| !map.is_empty())
        .map(|map| Value::Object(map.clone()))
}

/// What meshtui applies of a rendered object: its identity, labels, annotations and spec,
/// at the version the cluster serves. Server-side apply makes meshtui the owner of what it
/// sends, so nothing else goes: not the server's bookkeeping, not kubectl's annotation.
/// `resource_version`, when the object exists, makes the server refuse the apply if it
/// changed since it was read.
pub fn apply_configuration(
    desired: &Value,
    api_version: &str,
    resource_version: Option<&str>,
) -> Value {
    let source = &desired["metadata"];
    let mut metadata = Map::new();
    for field in ["name", "namespace"] {
        metadata.insert(field.into(), source[field].clone());
    }
    if let Some(labels) = non_empty(&source["labels"]) {
        metadata.insert("labels".into(), labels);
    }
    let mut annotations = source["annotations"].clone();
    if let Some(map) = annotations.as_object_mut() {
        map.remove(LAST_APPLIED);
    }
    if let Some(annotations) = non_empty(&annotations) {
        metadata.insert("annotations".into(), annotations);
    }
    if let Some(version) = resource_version {
        metadata.insert("resourceVersion".into(), json!(version));
    }
    let mut configuration = json!({
        "apiVersion": api_version,
        "kind": desired["kind"],
        "metadata": metadata,
    });
    if let Some(spec) = desired.get("spec") {
        configuration["spec"] = spec.clone();
    }
    configuration
}

/// What undo compares: an object is still the one meshtui wrote while these are.
pub fn content(object: &Value) -> (Value, Value, Value) {
    let metadata = &object["metadata"];
    let or_empty = |v: &Value| non_empty(v).unwrap_or_else(|| json!({}));
    (
        object.get("spec").cloned().unwrap_or(Value::Null),
        or_empty(&metadata["labels"]),
        or_empty(&metadata["annotations"]),
    )
}

/// `current` with the spec, labels and annotations of `before`: the object as it was,
/// written over what is there now (its resourceVersion makes the server refuse if it
/// changed meanwhile).
pub fn restored(current: &Value, before: &Value) -> Value {
    let mut object = without_managed_fields(current);
    let (spec, labels, annotations) = content(before);
    match spec {
        Value::Null => {
            if let Some(map) = object.as_object_mut() {
                map.remove("spec");
            }
        }
        spec => object["spec"] = spec,
    }
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for (field, value) in [("labels", labels), ("annotations", annotations)] {
            if value.as_object().is_some_and(Map::is_empty) {
                metadata.remove(field);
            } else {
                metadata.insert(field.into(), value);
            }
        }
    }
    object
}

/// `before` as a new object: without what the server set when it was created.
pub fn recreated(before: &Value) -> Value {
    let mut object = without_managed_fields(before);
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            metadata.remove(field);
        }
    }
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read() -> Value {
        json!({
            "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {
                "name": "reviews", "namespace": "bookinfo", "uid": "u-1",
                "resourceVersion": "41", "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"app": "reviews"},
                "annotations": {LAST_APPLIED: "{...}", "team": "shop"},
                "managedFields": [{"manager": "kubectl-client-side-apply"}]
            },
            "spec": {"hosts": ["reviews"]},
            "status": {"observedGeneration": 3}
        })
    }

    #[test]
    fn the_apply_configuration_holds_what_meshtui_means_and_no_server_bookkeeping() {
        assert_eq!(
            apply_configuration(&read(), "networking.istio.io/v1beta1", Some("41")),
            json!({
                "apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
                "metadata": {
                    "name": "reviews", "namespace": "bookinfo", "resourceVersion": "41",
                    "labels": {"app": "reviews"}, "annotations": {"team": "shop"}
                },
                "spec": {"hosts": ["reviews"]}
            })
        );
    }

    #[test]
    fn restoring_writes_back_spec_labels_and_annotations_over_the_current_object() {
        let mut current = read();
        current["metadata"]["resourceVersion"] = json!("50");
        current["metadata"]["labels"] =
            json!({"app": "reviews", "app.kubernetes.io/managed-by": "meshtui"});
        current["spec"] = json!({"hosts": ["reviews"], "http": [{"route": []}]});
        let mut before = read();
        before["metadata"]["annotations"] = json!({});
        let restored = restored(&current, &before);
        assert_eq!(restored["metadata"]["resourceVersion"], "50");
        assert_eq!(restored["spec"], json!({"hosts": ["reviews"]}));
        assert_eq!(restored["metadata"]["labels"], json!({"app": "reviews"}));
        assert_eq!(restored["metadata"].get("annotations"), None);
        assert_eq!(restored["metadata"].get("managedFields"), None);
        assert_eq!(content(&restored), content(&before));
    }

    #[test]
    fn a_recreated_object_carries_nothing_the_server_sets() {
        let object = recreated(&read());
        assert_eq!(
            object["metadata"],
            json!({"name": "reviews", "namespace": "bookinfo", "labels": {"app": "reviews"},
                   "annotations": {LAST_APPLIED: "{...}", "team": "shop"}})
        );
        assert_eq!(object.get("status"), None);
    }
}
