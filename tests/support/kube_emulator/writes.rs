//! Writes, answered as the API server answers them: create (POST), update (PUT, with the
//! resourceVersion check), patch (JSON merge patch, and server-side apply with field
//! ownership, conflicts and `force`), delete (with preconditions); `dryRun=All` on each
//! (the answer is what would be stored; nothing is). Objects of Istio's kinds are pruned
//! and checked against the schema of the CRD the emulator serves; refusals are 422
//! Invalid with a cause per field.

use hyper::http::request::Parts;
use hyper::{header, Method, Response, StatusCode};
use serde_json::{json, Map, Value};

use meshtui::mesh::rules::{parse_objects, CrdSchemas, KubeObject, Violation};

use super::managed::{self, Conflict};
use super::server::{query_of, rbac, Target};
use super::store::{with_type, ObjectKey, State};
use super::typed::{drop_unknown, root_schema, Schema};
use super::wire::{json_response, status, status_response, ApiBody};

pub fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// A refusal, boxed: responses are large.
type Refusal = Box<Response<ApiBody>>;

/// What every write needs to know of its request.
struct Request<'a> {
    target: &'a Target,
    dry_run: bool,
    /// The field manager: `fieldManager`, or the user agent's product as the API server
    /// derives it.
    manager: String,
    force: bool,
}

pub fn handle(parts: &Parts, body: &[u8], state: &mut State, target: &Target) -> Response<ApiBody> {
    let params = query_of(parts.uri.query());
    let verb = match (&parts.method, &target.name) {
        (&Method::POST, None) => "create",
        (&Method::PUT, Some(_)) => "update",
        (&Method::PATCH, Some(_)) => "patch",
        (&Method::DELETE, Some(_)) => "delete",
        _ => {
            return status_response(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                Some(json!({})),
            )
        }
    };
    if let Some(denied) = rbac(state, target, verb) {
        return denied;
    }
    let dry_run = match params.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return status_response(
                400,
                "BadRequest",
                &format!("dryRun: Unsupported value: \"{other}\": supported values: \"All\""),
                None,
            )
        }
    };
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let request = Request {
        target,
        dry_run,
        manager: params
            .get("fieldManager")
            .cloned()
            .unwrap_or_else(|| user_agent.split('/').next().unwrap_or("").to_owned()),
        force: params.get("force").is_some_and(|f| f == "true"),
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    match verb {
        "create" => with_json(body, |object| create(state, &request, object)),
        "update" => with_json(body, |object| update(state, &request, object)),
        "delete" => delete(state, &request, body),
        _ if content_type.starts_with("application/apply-patch+yaml") => {
            if params.get("fieldManager").is_none_or(String::is_empty) {
                return invalid_response(
                    "PatchOptions",
                    "meta.k8s.io",
                    "",
                    &[Violation {
                        path: "fieldManager".into(),
                        message: "Required value: is required for apply patch".into(),
                    }],
                );
            }
            match parse_apply(body) {
                Ok(config) => apply(state, &request, config),
                Err(response) => *response,
            }
        }
        _ if content_type.starts_with("application/merge-patch+json") => {
            with_json(body, |patch| merge_patch(state, &request, patch))
        }
        // JSON patches and strategic merge patches are not emulated (the API server takes
        // strategic merge patches for built-in kinds only).
        _ => status_response(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            None,
        ),
    }
}

fn with_json(body: &[u8], then: impl FnOnce(Value) -> Response<ApiBody>) -> Response<ApiBody> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) if value.is_object() => then(value),
        Ok(_) => bad_request("the request body is not a JSON object"),
        Err(e) => bad_request(&format!("couldn't get version/kind; json parse error: {e}")),
    }
}

/// An apply configuration: YAML (JSON being YAML too).
fn parse_apply(body: &[u8]) -> Result<Value, Refusal> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Ok(value);
    }
    let text =
        std::str::from_utf8(body).map_err(|_| Box::new(bad_request("the body is not UTF-8")))?;
    parse_objects("apply", text)
        .map_err(|e| Box::new(bad_request(&format!("error decoding YAML: {e}"))))?
        .into_iter()
        .next()
        .map(KubeObject::into_value)
        .ok_or_else(|| Box::new(bad_request("the apply configuration is empty")))
}

fn bad_request(message: &str) -> Response<ApiBody> {
    status_response(400, "BadRequest", message, None)
}

fn details(target: &Target, name: &str) -> Value {
    let mut details = json!({"name": name, "kind": target.resource.plural});
    if !target.resource.group.is_empty() {
        details["group"] = json!(target.resource.group);
    }
    details
}

fn not_found(target: &Target, name: &str) -> Response<ApiBody> {
    status_response(
        404,
        "NotFound",
        &format!("{} \"{name}\" not found", target.resource.qualified()),
        Some(details(target, name)),
    )
}

/// 409 Conflict of optimistic concurrency: the object is not the one the client read.
fn conflict(target: &Target, name: &str, why: &str) -> Response<ApiBody> {
    status_response(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            target.resource.qualified()
        ),
        Some(details(target, name)),
    )
}

const MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// The cause type of a field error, from the way its message starts.
fn cause_type(message: &str) -> &'static str {
    if message.starts_with("Required value") {
        "FieldValueRequired"
    } else if message.starts_with("Unsupported value") {
        "FieldValueNotSupported"
    } else if message.starts_with("Too long") {
        "FieldValueTooLong"
    } else if message.starts_with("Too many") {
        "FieldValueTooMany"
    } else if message.starts_with("Duplicate value") {
        "FieldValueDuplicate"
    } else if message.starts_with("Forbidden") {
        "FieldValueForbidden"
    } else if message.contains(" must be of type ") {
        "FieldValueTypeInvalid"
    } else {
        "FieldValueInvalid"
    }
}

/// 422 Invalid: `Kind.group "name" is invalid: field: message` (a list in brackets for
/// several), a cause per field.
fn invalid_response(
    kind: &str,
    group: &str,
    name: &str,
    violations: &[Violation],
) -> Response<ApiBody> {
    let errors: Vec<String> = violations.iter().map(ToString::to_string).collect();
    let listed = match errors.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let qualified = if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    };
    let causes: Vec<Value> = violations
        .iter()
        .map(|v| json!({"reason": cause_type(&v.message), "message": v.message, "field": v.path}))
        .collect();
    let mut details = json!({"name": name, "kind": kind, "causes": causes});
    if !group.is_empty() {
        details["group"] = json!(group);
    }
    status_response(
        422,
        "Invalid",
        &format!("{qualified} \"{name}\" is invalid: {listed}"),
        Some(details),
    )
}

/// A lowercase RFC 1123 subdomain, as custom resources' names must be.
fn is_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The object checked as the API server checks a custom resource: its name, then the
/// schema of its CRD (meshtui's own `CrdSchemas` evaluates the schema and its CEL rules,
/// over the CRD the emulator serves).
fn validate(state: &State, target: &Target, object: &Value) -> Result<(), Refusal> {
    let Some(crd) = state.crd(target.resource) else {
        return Ok(());
    };
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let mut violations = Vec::new();
    if !is_subdomain(name) {
        violations.push(Violation {
            path: "metadata.name".into(),
            message: format!("Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
        });
    }
    let served = with_type(target.resource, target.version, object);
    if let Ok(verdict) = CrdSchemas::from_crds([crd]).and_then(|s| s.validate(&served)) {
        violations.extend(verdict.violations);
    }
    if violations.is_empty() {
        return Ok(());
    }
    Err(Box::new(invalid_response(
        target.resource.kind,
        target.resource.group,
        name,
        &violations,
    )))
}

/// The kind's schema as apply sees it.
fn schema_of(state: &State, target: &Target) -> Value {
    let crd = state.crd(target.resource);
    root_schema(crd.and_then(|crd| super::crds::version_schema(crd, target.version)))
}

fn key_of(target: &Target, name: &str) -> ObjectKey {
    ObjectKey {
        resource: target.index,
        namespace: target.namespace.clone().unwrap_or_default(),
        name: name.to_owned(),
    }
}

fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    match object["metadata"].as_object_mut() {
        Some(metadata) => metadata,
        None => unreachable!("metadata was just made an object"),
    }
}

fn without_managed_fields(object: &Value) -> Value {
    let mut object = object.clone();
    metadata_mut(&mut object).remove("managedFields");
    object
}

/// Everything but metadata and status: what `generation` counts changes of.
fn generation_counts(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    object
}

/// What the server keeps of the stored object through an update: identity, creation,
/// status (written through its subresource), and `generation`, bumped on a change.
fn keep_server_fields(live: &Value, object: &mut Value) {
    let changed = generation_counts(live) != generation_counts(object);
    let metadata = metadata_mut(object);
    for field in ["uid", "creationTimestamp", "resourceVersion"] {
        match live["metadata"].get(field) {
            Some(value) => metadata.insert(field.into(), value.clone()),
            None => metadata.remove(field),
        };
    }
    if let Some(generation) = live["metadata"]["generation"].as_i64() {
        metadata.insert("generation".into(), json!(generation + i64::from(changed)));
    }
    match live.get("status") {
        Some(status) => object["status"] = status.clone(),
        None => {
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
        }
    }
}

/// The namespace of the URL, which the object must not contradict.
fn check_scope(target: &Target, object: &mut Value, name: Option<&str>) -> Result<(), Refusal> {
    let url_namespace = target.namespace.clone().unwrap_or_default();
    let metadata = metadata_mut(object);
    match metadata.get("namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() && ns != url_namespace => return Err(Box::new(bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ))),
        _ if target.resource.namespaced => {
            metadata.insert("namespace".into(), json!(url_namespace));
        }
        _ => {}
    }
    if let Some(url_name) = name {
        let named = metadata.get("name").and_then(Value::as_str).unwrap_or("");
        if named != url_name {
            return Err(Box::new(bad_request(&format!(
                "the name of the object ({named}) does not match the name on the URL ({url_name})"
            ))));
        }
    }
    Ok(())
}

/// Answers with `object` after storing it, or, for a dry run, without.
fn answer(
    state: &mut State,
    request: &Request<'_>,
    key: ObjectKey,
    object: Value,
    created: bool,
) -> Response<ApiBody> {
    let stored = if request.dry_run {
        object
    } else {
        state.record(if created { "ADDED" } else { "MODIFIED" }, key, object)
    };
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    json_response(
        code,
        &with_type(request.target.resource, request.target.version, &stored),
    )
}

fn create(state: &mut State, request: &Request<'_>, mut object: Value) -> Response<ApiBody> {
    let target = request.target;
    if let Err(refused) = check_scope(target, &mut object, None) {
        return *refused;
    }
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    if name.is_empty() {
        return invalid_response(
            target.resource.kind,
            target.resource.group,
            "",
            &[Violation {
                path: "metadata.name".into(),
                message: "Required value: name or generateName is required".into(),
            }],
        );
    }
    let key = key_of(target, &name);
    if state.objects.contains_key(&key) {
        return status_response(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", target.resource.qualified()),
            Some(details(target, &name)),
        );
    }
    if object["metadata"]
        .get("resourceVersion")
        .is_some_and(|rv| rv.as_str() != Some(""))
    {
        // The storage refuses it with an error no API status describes.
        return status_response(
            500,
            "InternalError",
            "Internal error occurred: resourceVersion should not be set on objects to be created",
            Some(
                json!({"causes": [{"message": "resourceVersion should not be set on objects to be created"}]}),
            ),
        );
    }
    let schema = schema_of(state, target);
    drop_unknown(&mut object, Schema::new(&schema));
    object["apiVersion"] = json!(target.resource.api_version(target.version));
    object["kind"] = json!(target.resource.kind);
    let given = managed::decode(&object);
    let bare = without_managed_fields(&object);
    let entries = managed::update(
        &json!({}),
        &bare,
        Schema::new(&schema),
        given,
        &request.manager,
        &target.resource.api_version(target.version),
    );
    object = bare;
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    state.stamp_new(target.resource, &mut object);
    metadata_mut(&mut object).insert("managedFields".into(), managed::encode(&entries));
    if let Err(refused) = validate(state, target, &object) {
        return *refused;
    }
    answer(state, request, key, object, true)
}

/// PUT: the object replaces the stored one, if the client read the latest (or named no
/// resourceVersion: custom resources allow unconditional updates).
fn update(state: &mut State, request: &Request<'_>, mut object: Value) -> Response<ApiBody> {
    let target = request.target;
    let name = target.name.clone().unwrap_or_default();
    if let Err(refused) = check_scope(target, &mut object, Some(&name)) {
        return *refused;
    }
    let key = key_of(target, &name);
    let Some(live) = state.objects.get(&key).cloned() else {
        return not_found(target, &name);
    };
    let claimed = object["metadata"]["resourceVersion"].as_str().unwrap_or("");
    if !claimed.is_empty() && Some(claimed) != live["metadata"]["resourceVersion"].as_str() {
        return conflict(target, &name, MODIFIED);
    }
    write_update(state, request, key, &live, object)
}

/// The rest of an update (PUT or merge patch): pruning, ownership, server fields, checks.
fn write_update(
    state: &mut State,
    request: &Request<'_>,
    key: ObjectKey,
    live: &Value,
    mut object: Value,
) -> Response<ApiBody> {
    let target = request.target;
    let schema = schema_of(state, target);
    drop_unknown(&mut object, Schema::new(&schema));
    object["apiVersion"] = json!(target.resource.api_version(target.version));
    object["kind"] = json!(target.resource.kind);
    // Managed fields sent with the update replace the stored ones (that is how a client
    // resets them); without, the stored ones stay.
    let given = managed::decode(&object);
    let base = if given.is_empty() {
        managed::decode(live)
    } else {
        given
    };
    keep_server_fields(live, &mut object);
    let bare = without_managed_fields(&object);
    let entries = managed::update(
        &without_managed_fields(live),
        &bare,
        Schema::new(&schema),
        base,
        &request.manager,
        &target.resource.api_version(target.version),
    );
    object = bare;
    metadata_mut(&mut object).insert("managedFields".into(), managed::encode(&entries));
    if let Err(refused) = validate(state, target, &object) {
        return *refused;
    }
    if object == *live {
        return json_response(
            StatusCode::OK,
            &with_type(target.resource, target.version, live),
        );
    }
    answer(state, request, key, object, false)
}

/// RFC 7386: objects merge key by key, `null` removes, anything else replaces.
fn merge_json(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Some(map) = target.as_object_mut() {
                for (key, value) in fields {
                    if value.is_null() {
                        map.remove(key);
                    } else {
                        merge_json(map.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn merge_patch(state: &mut State, request: &Request<'_>, patch: Value) -> Response<ApiBody> {
    let target = request.target;
    let name = target.name.clone().unwrap_or_default();
    let key = key_of(target, &name);
    let Some(live) = state.objects.get(&key).cloned() else {
        return not_found(target, &name);
    };
    let claimed = patch["metadata"]["resourceVersion"].as_str().unwrap_or("");
    if !claimed.is_empty() && Some(claimed) != live["metadata"]["resourceVersion"].as_str() {
        return conflict(target, &name, MODIFIED);
    }
    let mut object = live.clone();
    merge_json(&mut object, &patch);
    if let Err(refused) = check_scope(target, &mut object, Some(&name)) {
        return *refused;
    }
    // The stored managed fields stay unless the patch sets them.
    if patch["metadata"].get("managedFields").is_none() {
        metadata_mut(&mut object).remove("managedFields");
    }
    write_update(state, request, key, &live, object)
}

fn conflict_response(conflicts: &[Conflict]) -> Response<ApiBody> {
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager, one.field
        ),
        many => {
            let mut lines = Vec::new();
            let mut managers: Vec<&String> = many.iter().map(|c| &c.manager).collect();
            managers.dedup();
            for manager in managers {
                lines.push(format!("conflicts with {manager}"));
                for c in many.iter().filter(|c| &c.manager == manager) {
                    lines.push(format!("- {}", c.field));
                }
            }
            format!(
                "Apply failed with {} conflicts: {}",
                many.len(),
                lines.join("\n")
            )
        }
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager),
                "field": c.field,
            })
        })
        .collect();
    json_response(
        StatusCode::CONFLICT,
        &status(409, "Conflict", &message, Some(json!({"causes": causes}))),
    )
}

/// Server-side apply: creates the object, or merges the configuration into it with the
/// fields' owners' consent.
fn apply(state: &mut State, request: &Request<'_>, mut config: Value) -> Response<ApiBody> {
    let target = request.target;
    let name = target.name.clone().unwrap_or_default();
    let expected = target.resource.api_version(target.version);
    if config["apiVersion"] != expected.as_str() || config["kind"] != target.resource.kind {
        return bad_request(&format!(
            "the API version in the data ({}) does not match the expected API version ({expected})",
            config["apiVersion"].as_str().unwrap_or("")
        ));
    }
    if config["metadata"].get("managedFields").is_some() {
        return bad_request("metadata.managedFields must be nil");
    }
    if let Err(refused) = check_scope(target, &mut config, Some(&name)) {
        return *refused;
    }
    let key = key_of(target, &name);
    let live = state.objects.get(&key).cloned();
    let claimed = config["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    match &live {
        Some(live)
            if !claimed.is_empty()
                && Some(claimed.as_str()) != live["metadata"]["resourceVersion"].as_str() =>
        {
            return conflict(target, &name, MODIFIED)
        }
        None if !claimed.is_empty() => return not_found(target, &name),
        _ => {}
    }
    let schema = schema_of(state, target);
    drop_unknown(&mut config, Schema::new(&schema));
    let base = live
        .as_ref()
        .map(without_managed_fields)
        .unwrap_or_else(|| json!({}));
    let entries = live.as_ref().map(managed::decode).unwrap_or_default();
    let outcome = match managed::apply(
        &base,
        &config,
        Schema::new(&schema),
        entries,
        &request.manager,
        &expected,
        request.force,
    ) {
        Ok(outcome) => outcome,
        Err(conflicts) => return conflict_response(&conflicts),
    };
    let mut object = outcome.object;
    match &live {
        Some(live) => keep_server_fields(live, &mut object),
        None => {
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
            metadata_mut(&mut object).remove("resourceVersion");
            state.stamp_new(target.resource, &mut object);
        }
    }
    metadata_mut(&mut object).insert("managedFields".into(), managed::encode(&outcome.entries));
    if let Err(refused) = validate(state, target, &object) {
        return *refused;
    }
    if let Some(live) = &live {
        if object == *live {
            return json_response(
                StatusCode::OK,
                &with_type(target.resource, target.version, live),
            );
        }
    }
    answer(state, request, key, object, live.is_none())
}

/// DELETE, with `DeleteOptions` in the body: `preconditions` on uid and resourceVersion,
/// `dryRun` (also taken from the query).
fn delete(state: &mut State, request: &Request<'_>, body: &[u8]) -> Response<ApiBody> {
    let target = request.target;
    let name = target.name.clone().unwrap_or_default();
    let options: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(options) => options,
            Err(e) => return bad_request(&format!("the DeleteOptions are not JSON: {e}")),
        }
    };
    let dry_run = request.dry_run
        || options["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|v| v == "All"));
    let key = key_of(target, &name);
    let Some(live) = state.objects.get(&key).cloned() else {
        return not_found(target, &name);
    };
    let preconditions = &options["preconditions"];
    for (field, shown) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        if let Some(wanted) = preconditions[field].as_str() {
            let actual = live["metadata"][field].as_str().unwrap_or("");
            if wanted != actual {
                return conflict(
                    target,
                    &name,
                    &format!("Precondition failed: {shown} in precondition: {wanted}, {shown} in object meta: {actual}"),
                );
            }
        }
    }
    if !dry_run {
        state.record("DELETED", key, live.clone());
    }
    if !target.resource.is_custom() {
        return json_response(
            StatusCode::OK,
            &with_type(target.resource, target.version, &live),
        );
    }
    let mut details = details(target, &name);
    details["uid"] = live["metadata"]["uid"].clone();
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Success", "details": details,
        }),
    )
}
