//! Whether the user may write routing rules in a namespace, asked of the API server with
//! SelfSubjectAccessReviews (RBAC decides, and only the server knows the user's roles).

use serde_json::json;
use tokio::task::JoinSet;

use crate::mesh::sanitize::sanitize;
use crate::source::write::WriteError;

use super::failure::{write_error, Subject};
use super::rest::Rest;

const REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const GROUP: &str = "networking.istio.io";
/// Every verb a rule change, its undo and a reset use.
const VERBS: [&str; 4] = ["create", "patch", "update", "delete"];
const RESOURCES: [&str; 2] = ["virtualservices", "destinationrules"];

/// `Ok` when every verb on both kinds is allowed; otherwise the first refusal, in a fixed
/// order (kinds, then verbs as listed).
pub async fn check(rest: &Rest, namespace: &str) -> Result<(), WriteError> {
    let mut reviews = JoinSet::new();
    for (r, resource) in RESOURCES.into_iter().enumerate() {
        for (v, verb) in VERBS.into_iter().enumerate() {
            let rest = rest.clone();
            let namespace = namespace.to_owned();
            reviews.spawn(async move {
                let order = r * VERBS.len() + v;
                (order, review(&rest, &namespace, verb, resource).await)
            });
        }
    }
    let mut answers = Vec::new();
    while let Some(joined) = reviews.join_next().await {
        match joined {
            Ok(answer) => answers.push(answer),
            Err(e) => return Err(WriteError::Failed(format!("asking for access: {e}"))),
        }
    }
    answers.sort_by_key(|(order, _)| *order);
    answers.into_iter().try_for_each(|(_, answer)| answer)
}

async fn review(
    rest: &Rest,
    namespace: &str,
    verb: &'static str,
    resource: &str,
) -> Result<(), WriteError> {
    let body = json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {
            "namespace": namespace, "verb": verb, "group": GROUP, "resource": resource,
        }},
    });
    let qualified = format!("{resource}.{GROUP}");
    let answer = rest.post(REVIEWS, &body).await.map_err(|failure| {
        write_error(
            failure,
            &Subject {
                verb: "create",
                resource: "selfsubjectaccessreviews.authorization.k8s.io".into(),
                namespace: namespace.to_owned(),
                object: "a SelfSubjectAccessReview".into(),
            },
        )
    })?;
    let status = &answer["status"];
    if status["allowed"].as_bool() == Some(true) {
        return Ok(());
    }
    let text = |key: &str| status[key].as_str().filter(|s| !s.is_empty()).map(sanitize);
    // RBAC gives no reason when no rule allows something.
    let reason = text("reason")
        .or_else(|| text("evaluationError"))
        .unwrap_or_else(|| "no RBAC rule of yours allows it".to_owned());
    Err(WriteError::NotAllowed {
        verb: verb.to_owned(),
        resource: qualified,
        namespace: namespace.to_owned(),
        reason,
    })
}
