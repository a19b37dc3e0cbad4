//! The writer's requests through `kube::Client`, with the API server's `Status` kept whole:
//! kube's own error keeps no `details.causes`, and conflicts (which manager owns which
//! field) and refusals (which field is invalid) are told there.

use http_body_util::BodyExt;
use hyper::http;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    Preconditions,
};
use kube::client::Body;
use kube::core::Request;
use kube::Resource;
use serde_json::Value;

use crate::source::write::FIELD_MANAGER;

/// One cause of a failure, as `Status.details.causes` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cause {
    /// `FieldManagerConflict`, `FieldValueInvalid`, ...
    pub reason: String,
    pub message: String,
    /// `.spec.http` in conflicts, `spec.http[0].timeout` in refusals.
    pub field: String,
}

/// An error `Status` of the API server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiStatus {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub causes: Vec<Cause>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The API server refused, with a `Status`.
    Api(ApiStatus),
    /// No answer, or one that is not the API's (a proxy's error page, a broken body).
    Transport(String),
}

impl ApiStatus {
    /// The `Status` in an error answer; `None` when the body is not one.
    pub fn parse(code: u16, body: &[u8]) -> Option<ApiStatus> {
        let value: Value = serde_json::from_slice(body).ok()?;
        if value.get("kind").and_then(Value::as_str) != Some("Status") {
            return None;
        }
        let text =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let causes = value
            .pointer("/details/causes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|cause| Cause {
                reason: text(cause, "reason"),
                message: text(cause, "message"),
                field: text(cause, "field"),
            })
            .collect();
        Some(ApiStatus {
            code: value
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(code),
            reason: text(&value, "reason"),
            message: text(&value, "message"),
            causes,
        })
    }
}

/// Where an object of `resource` lives.
#[derive(Clone)]
pub struct Rest {
    client: kube::Client,
}

fn build(
    result: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<http::Request<Vec<u8>>, Failure> {
    result.map_err(|e| Failure::Transport(format!("building the request: {e}")))
}

impl Rest {
    pub fn new(client: kube::Client) -> Self {
        Rest { client }
    }

    fn request(resource: &ApiResource, namespace: &str) -> Request {
        Request::new(DynamicObject::url_path(resource, Some(namespace)))
    }

    /// Sends `request`; the answer's JSON, or the failure.
    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<Value, Failure> {
        let response = self
            .client
            .send(request.map(Body::from))
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let code = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Failure::Transport(format!("reading the answer: {e}")))?
            .to_bytes();
        if code >= 400 {
            return Err(match ApiStatus::parse(code, &body) {
                Some(status) => Failure::Api(status),
                None => Failure::Transport(format!(
                    "HTTP {code}: {}",
                    String::from_utf8_lossy(&body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                )),
            });
        }
        serde_json::from_slice(&body)
            .map_err(|e| Failure::Transport(format!("the answer is not JSON: {e}")))
    }

    /// The object, or `None` when there is none.
    pub async fn get(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, Failure> {
        let request = build(Self::request(resource, namespace).get(name, &Default::default()))?;
        match self.send(request).await {
            Ok(object) => Ok(Some(object)),
            Err(Failure::Api(status)) if status.code == 404 => Ok(None),
            Err(failure) => Err(failure),
        }
    }

    /// A cluster-scoped object, or `None` when there is none.
    pub async fn get_cluster(
        &self,
        resource: &ApiResource,
        name: &str,
    ) -> Result<Option<Value>, Failure> {
        let request = build(
            Request::new(DynamicObject::url_path(resource, None)).get(name, &Default::default()),
        )?;
        match self.send(request).await {
            Ok(object) => Ok(Some(object)),
            Err(Failure::Api(status)) if status.code == 404 => Ok(None),
            Err(failure) => Err(failure),
        }
    }

    /// Every object of `resource` in `namespace`, page by page, each with its
    /// `apiVersion` and `kind`.
    pub async fn list(
        &self,
        resource: &ApiResource,
        namespace: &str,
    ) -> Result<Vec<Value>, Failure> {
        let mut items = Vec::new();
        let mut params = ListParams::default().limit(500);
        loop {
            let request = build(Self::request(resource, namespace).list(&params))?;
            let mut page = self.send(request).await?;
            if let Some(Value::Array(listed)) = page.get_mut("items").map(Value::take) {
                for mut item in listed {
                    item["apiVersion"] = Value::String(resource.api_version.clone());
                    item["kind"] = Value::String(resource.kind.clone());
                    items.push(item);
                }
            }
            match page.pointer("/metadata/continue").and_then(Value::as_str) {
                Some(token) if !token.is_empty() => params = params.continue_token(token),
                _ => return Ok(items),
            }
        }
    }

    /// Server-side apply of `object` under meshtui's field manager.
    pub async fn apply(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
        object: &Value,
        dry_run: bool,
        force: bool,
    ) -> Result<Value, Failure> {
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.dry_run = dry_run;
        params.force = force;
        let request =
            build(Self::request(resource, namespace).patch(name, &params, &Patch::Apply(object)))?;
        self.send(request).await
    }

    /// PUT: replaces the object; refused unless `object`'s resourceVersion is the stored one.
    pub async fn replace(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
        object: &Value,
    ) -> Result<Value, Failure> {
        let params = PostParams {
            dry_run: false,
            field_manager: Some(FIELD_MANAGER.to_owned()),
        };
        let body = serde_json::to_vec(object).map_err(|e| Failure::Transport(e.to_string()))?;
        let request = build(Self::request(resource, namespace).replace(name, &params, body))?;
        self.send(request).await
    }

    pub async fn create(
        &self,
        resource: &ApiResource,
        namespace: &str,
        object: &Value,
    ) -> Result<Value, Failure> {
        let params = PostParams {
            dry_run: false,
            field_manager: Some(FIELD_MANAGER.to_owned()),
        };
        let body = serde_json::to_vec(object).map_err(|e| Failure::Transport(e.to_string()))?;
        let request = build(Self::request(resource, namespace).create(&params, body))?;
        self.send(request).await
    }

    /// Deletes the object if it still is the one with `uid` at `resource_version`.
    pub async fn delete(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
        preconditions: Preconditions,
        dry_run: bool,
    ) -> Result<(), Failure> {
        let params = DeleteParams {
            dry_run,
            preconditions: Some(preconditions),
            ..DeleteParams::default()
        };
        let request = build(Self::request(resource, namespace).delete(name, &params))?;
        self.send(request).await.map(|_| ())
    }

    /// A POST of `body` to `path` (reviews, which are not stored objects).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        let body = serde_json::to_vec(body).map_err(|e| Failure::Transport(e.to_string()))?;
        let request = build(Request::new(path).create(&PostParams::default(), body))?;
        self.send(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_status_keeps_its_causes() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Apply failed with 1 conflict: conflict with \"kubectl-edit\" using networking.istio.io/v1: .spec.http","reason":"Conflict","details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-edit\" using networking.istio.io/v1","field":".spec.http"}]},"code":409}"#;
        let status = ApiStatus::parse(409, body).unwrap();
        assert_eq!(status.reason, "Conflict");
        assert_eq!(
            status.causes,
            vec![Cause {
                reason: "FieldManagerConflict".into(),
                message: "conflict with \"kubectl-edit\" using networking.istio.io/v1".into(),
                field: ".spec.http".into(),
            }]
        );
    }

    #[test]
    fn an_answer_that_is_not_a_status_is_not_read_as_one() {
        assert_eq!(ApiStatus::parse(502, b"<html>Bad Gateway</html>"), None);
        assert_eq!(ApiStatus::parse(500, br#"{"kind":"Pod"}"#), None);
    }
}
