//! Discovery, as the API server answers it without aggregated discovery: `/api` and
//! `/apis` name the groups and versions, `/api/v1` and `/apis/{group}/{version}` list
//! the resources served there.

use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::resources::{self, served_versions, storage_version_hash, RESOURCES};
use super::server::not_found_path;
use super::store::State;
use super::wire::{json_response, ApiBody};

/// The answer for a discovery path, `None` for any other path.
pub fn answer(path: &str, state: &State) -> Option<Response<ApiBody>> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let body = match parts.as_slice() {
        ["api"] => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": state.address}
            ]
        }),
        ["api", "v1"] => resource_list("", "v1", state),
        ["api", _] => return Some(not_found_path()),
        ["apis"] => json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": resources::groups(state.istio)
                .into_iter()
                .map(|(name, versions)| group(name, versions))
                .collect::<Vec<_>>()
        }),
        ["apis", name] => {
            let (name, versions) = resources::groups(state.istio)
                .into_iter()
                .find(|(group, _)| group == name)?;
            let mut body = group(name, versions);
            body["kind"] = json!("APIGroup");
            body["apiVersion"] = json!("v1");
            body
        }
        ["apis", name, version] => {
            let served = resources::groups(state.istio)
                .into_iter()
                .any(|(group, versions)| group == *name && versions.contains(version));
            if !served {
                return None;
            }
            let mut list = resource_list(name, version, state);
            list["apiVersion"] = json!("v1");
            list
        }
        _ => return None,
    };
    Some(json_response(StatusCode::OK, &body))
}

fn group_version(group: &str, version: &str) -> Value {
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    json!({"groupVersion": group_version, "version": version})
}

/// A group as `/apis` lists it: its versions, preferred first.
fn group(name: &str, versions: &[&str]) -> Value {
    let listed: Vec<Value> = versions.iter().map(|v| group_version(name, v)).collect();
    json!({
        "name": name,
        "versions": listed,
        "preferredVersion": group_version(name, versions.first().copied().unwrap_or("v1")),
    })
}

/// The resources served at one group version, sorted by name as the API server sorts
/// them; the service proxy is the one subresource the emulator serves.
fn resource_list(group: &str, version: &str, state: &State) -> Value {
    let mut entries: Vec<Value> = Vec::new();
    for resource in RESOURCES
        .iter()
        .filter(|r| r.group == group && served_versions(r, state.istio).contains(&version))
    {
        let mut entry = json!({
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": resource.verbs(),
            "storageVersionHash": storage_version_hash(resource, state.istio),
        });
        if !resource.short_names.is_empty() {
            entry["shortNames"] = json!(resource.short_names);
        }
        if !resource.categories.is_empty() {
            entry["categories"] = json!(resource.categories);
        }
        entries.push(entry);
        if resource.kind == "Service" {
            entries.push(json!({
                "name": "services/proxy",
                "singularName": "",
                "namespaced": true,
                "kind": "ServiceProxyOptions",
                "verbs": ["create", "delete", "get", "patch", "update"],
            }));
        }
    }
    entries.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    json!({
        "kind": "APIResourceList",
        "groupVersion": if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") },
        "resources": entries,
    })
}
