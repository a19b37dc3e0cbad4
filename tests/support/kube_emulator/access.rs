//! `SelfSubjectAccessReview` (authorization.k8s.io/v1): "may I?", answered from the same
//! RBAC hooks that refuse requests. RBAC gives a reason when it allows and, when no rule
//! allows, none.

use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::resources::RESOURCES;
use super::store::State;
use super::wire::{json_response, status_response, ApiBody};

pub const PATH: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

pub fn review(state: &State, body: &[u8]) -> Response<ApiBody> {
    let Ok(mut review) = serde_json::from_slice::<Value>(body) else {
        return status_response(400, "BadRequest", "the review is not JSON", None);
    };
    let attributes = &review["spec"]["resourceAttributes"];
    let text = |field: &str| attributes[field].as_str().unwrap_or("").to_owned();
    let (namespace, verb, group, resource) = (
        text("namespace"),
        text("verb"),
        text("group"),
        text("resource"),
    );
    if attributes.is_null() && review["spec"]["nonResourceAttributes"].is_null() {
        return status_response(
            422,
            "Invalid",
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
            None,
        );
    }
    let namespaced = RESOURCES
        .iter()
        .find(|r| r.plural == resource && r.group == group)
        .is_none_or(|r| r.namespaced);
    let scope = (!namespace.is_empty()).then_some(namespace.as_str());
    let allowed = !state.refuses(&verb, &resource, namespaced, scope);
    review["metadata"] = json!({"creationTimestamp": null});
    review["status"] = if allowed {
        json!({
            "allowed": true,
            "reason": "RBAC: allowed by ClusterRoleBinding \"meshtui\" of ClusterRole \"meshtui\" to ServiceAccount \"meshtui/meshtui\""
        })
    } else {
        json!({"allowed": false})
    };
    json_response(StatusCode::CREATED, &review)
}
