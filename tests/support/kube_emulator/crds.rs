//! The CustomResourceDefinitions of the Istio kinds the emulator serves, as
//! `apiextensions.k8s.io/v1` objects: Istio's own, from the copy meshtui embeds
//! (`src/mesh/rules/crds/crd-all.gen.yaml`, see its ORIGIN.md), cut down to the versions
//! the emulated Istio release serves. Their schemas also decide how the emulator merges
//! applied objects and which objects it refuses.

use std::sync::OnceLock;

use serde_json::{json, Value};

use meshtui::mesh::rules::{parse_objects, KubeObject};

use super::resources::{served_versions, storage_version, IstioApis, ResourceType, RESOURCES};

const CRD_ALL: &str = include_str!("../../../src/mesh/rules/crds/crd-all.gen.yaml");

/// Every CRD of the file, read once per test binary.
fn all() -> &'static [Value] {
    static ALL: OnceLock<Vec<Value>> = OnceLock::new();
    ALL.get_or_init(|| {
        parse_objects("crd-all.gen.yaml", CRD_ALL)
            .expect("Istio's CRDs parse")
            .into_iter()
            .map(KubeObject::into_value)
            .collect()
    })
}

/// The CRD of `resource` as a cluster with this Istio release holds it; `None` when the
/// release does not have the kind.
pub fn crd_for(resource: &ResourceType, istio: IstioApis) -> Option<Value> {
    let served = served_versions(resource, istio);
    if served.is_empty() {
        return None;
    }
    let storage = storage_version(resource, istio);
    let mut crd = all()
        .iter()
        .find(|crd| {
            crd["spec"]["group"] == resource.group && crd["spec"]["names"]["kind"] == resource.kind
        })?
        .clone();
    if let Some(versions) = crd["spec"]["versions"].as_array_mut() {
        versions.retain(|v| v["name"].as_str().is_some_and(|n| served.contains(&n)));
        for version in versions {
            version["storage"] = json!(version["name"] == storage);
        }
    }
    crd["status"] = json!({
        "acceptedNames": crd["spec"]["names"],
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": "2026-11-24T09:58:00Z"},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted",
             "lastTransitionTime": "2026-11-24T09:58:00Z"}
        ],
        "storedVersions": [storage]
    });
    Some(crd)
}

/// The CRDs of every Istio kind the emulator serves.
pub fn istio_crds(istio: IstioApis) -> Vec<Value> {
    RESOURCES
        .iter()
        .filter(|r| r.is_custom())
        .filter_map(|r| crd_for(r, istio))
        .collect()
}

/// The `openAPIV3Schema` of `version` in a CRD.
pub fn version_schema<'c>(crd: &'c Value, version: &str) -> Option<&'c Value> {
    crd["spec"]["versions"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == version)?
        .pointer("/schema/openAPIV3Schema")
}
