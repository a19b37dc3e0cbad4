//! The emulator's writes as the real `kube::Client` sees them, worded as the API server
//! words them: server-side apply with field owners, conflicts and `force`, fields removed
//! when their manager stops applying them, dry runs, resourceVersion and delete
//! preconditions, schema refusals, RBAC refusals and access reviews, Istio's CRDs.

use http_body_util::BodyExt;
use hyper::http;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::core::Request;
use serde_json::{json, Value};

use crate::support::kube_emulator::{bookinfo_objects, EmulatorOptions, IstioApis, KubeEmulator};

const DESTINATION_RULES: &str = "/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules";
const VIRTUAL_SERVICES: &str = "/apis/networking.istio.io/v1/namespaces/bookinfo/virtualservices";
const USER: &str = "system:serviceaccount:meshtui:meshtui";

/// Sends `request`; the HTTP code and the JSON answer.
async fn call(emulator: &KubeEmulator, request: http::Request<Vec<u8>>) -> (u16, Value) {
    let response = emulator
        .client()
        .send(request.map(kube::client::Body::from))
        .await
        .unwrap();
    let code = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (code, serde_json::from_slice(&body).unwrap())
}

fn apply(collection: &str, name: &str, manager: &str, body: Value) -> http::Request<Vec<u8>> {
    apply_with(collection, name, PatchParams::apply(manager), body)
}

fn apply_with(
    collection: &str,
    name: &str,
    params: PatchParams,
    body: Value,
) -> http::Request<Vec<u8>> {
    Request::new(collection)
        .patch(name, &params, &Patch::Apply(body))
        .unwrap()
}

fn destination_rule(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": name, "namespace": "bookinfo"},
        "spec": spec,
    })
}

/// The managed fields without their times, which are the clock's.
fn owners(object: &Value) -> Value {
    let mut entries = object["metadata"]["managedFields"].clone();
    for entry in entries.as_array_mut().unwrap() {
        assert!(
            entry["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{entry}"
        );
        entry.as_object_mut().unwrap().remove("time");
    }
    entries
}

fn stored(emulator: &KubeEmulator, kind: &str, name: &str) -> Option<Value> {
    emulator.object("networking.istio.io/v1", kind, "bookinfo", name)
}

#[tokio::test]
async fn objects_made_by_kubectl_apply_are_owned_by_its_client_side_manager() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let reviews = stored(&emulator, "DestinationRule", "reviews").unwrap();
    assert_eq!(
        owners(&reviews),
        json!([{
            "manager": "kubectl-client-side-apply", "operation": "Update",
            "apiVersion": "networking.istio.io/v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {".": {}, "f:host": {}, "f:subsets": {}}}
        }])
    );
}

#[tokio::test]
async fn server_side_apply_creates_the_object_owned_by_its_manager() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let config = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "ratings", "labels": {"app": "ratings"}},
        "spec": {"hosts": ["ratings"], "http": [{"route": [{"destination": {"host": "ratings"}}]}]}
    });
    let (code, created) = call(
        &emulator,
        apply(VIRTUAL_SERVICES, "ratings", "team-a", config),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(created["metadata"]["uid"].is_string());
    assert_eq!(
        owners(&created),
        json!([{
            "manager": "team-a", "operation": "Apply",
            "apiVersion": "networking.istio.io/v1", "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:hosts": {}, "f:http": {}}
            }
        }])
    );
    assert_eq!(
        stored(&emulator, "VirtualService", "ratings").unwrap(),
        created
    );

    // Applying the same again changes nothing, not even the resourceVersion.
    let again = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "ratings", "labels": {"app": "ratings"}},
        "spec": {"hosts": ["ratings"], "http": [{"route": [{"destination": {"host": "ratings"}}]}]}
    });
    let (code, same) = call(
        &emulator,
        apply(VIRTUAL_SERVICES, "ratings", "team-a", again),
    )
    .await;
    assert_eq!((code, same), (200, created));
}

#[tokio::test]
async fn applying_a_field_another_manager_owns_is_a_409_until_forced() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let only_v1 = || {
        destination_rule(
            "reviews",
            json!({"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
        )
    };
    let before = emulator.resource_version();
    let (code, status) = call(
        &emulator,
        apply(DESTINATION_RULES, "reviews", "team-a", only_v1()),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(
        status,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using networking.istio.io/v1: .spec.subsets",
            "reason": "Conflict",
            "details": {"causes": [{
                "reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl-client-side-apply\" using networking.istio.io/v1",
                "field": ".spec.subsets"
            }]},
            "code": 409
        })
    );
    assert_eq!(emulator.resource_version(), before, "nothing was stored");

    let mut forced = PatchParams::apply("team-a");
    forced.force = true;
    let (code, taken) = call(
        &emulator,
        apply_with(DESTINATION_RULES, "reviews", forced, only_v1()),
    )
    .await;
    assert_eq!(code, 200, "{taken}");
    assert_eq!(
        taken["spec"]["subsets"],
        json!([{"name": "v1", "labels": {"version": "v1"}}])
    );
    assert_eq!(taken["metadata"]["generation"], 2);
    // The host had the same value: both own it now. The subsets are team-a's alone.
    assert_eq!(
        owners(&taken),
        json!([
            {"manager": "team-a", "operation": "Apply", "apiVersion": "networking.istio.io/v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:host": {}, "f:subsets": {}}}},
            {"manager": "kubectl-client-side-apply", "operation": "Update",
             "apiVersion": "networking.istio.io/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {".": {}, "f:host": {}}}}
        ])
    );
}

#[tokio::test]
async fn fields_a_manager_stops_applying_are_removed_unless_another_manager_owns_them() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let mut first = destination_rule(
        "ratings",
        json!({"host": "ratings", "trafficPolicy": {
            "connectionPool": {"tcp": {"maxConnections": 10}},
            "outlierDetection": {"consecutive5xxErrors": 5}
        }}),
    );
    first["metadata"]["labels"] = json!({"team": "a"});
    let (code, _) = call(
        &emulator,
        apply(DESTINATION_RULES, "ratings", "team-a", first),
    )
    .await;
    assert_eq!(code, 201);
    let shared = destination_rule(
        "ratings",
        json!({"host": "ratings", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 5}}}),
    );
    let (code, _) = call(
        &emulator,
        apply(DESTINATION_RULES, "ratings", "team-b", shared),
    )
    .await;
    assert_eq!(code, 200, "the same values are shared without a conflict");

    let (code, left) = call(
        &emulator,
        apply(
            DESTINATION_RULES,
            "ratings",
            "team-a",
            destination_rule("ratings", json!({"host": "ratings"})),
        ),
    )
    .await;
    assert_eq!(code, 200, "{left}");
    assert_eq!(
        left["spec"],
        json!({"host": "ratings", "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 5}}})
    );
    assert_eq!(left["metadata"].get("labels"), None);
}

#[tokio::test]
async fn dry_runs_answer_as_if_done_and_store_nothing() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let version = emulator.resource_version();
    let reviews = stored(&emulator, "DestinationRule", "reviews").unwrap();
    let mut dry = PatchParams::apply("team-a");
    dry.dry_run = true;

    let new = destination_rule("ratings", json!({"host": "ratings"}));
    let (code, created) = call(
        &emulator,
        apply_with(DESTINATION_RULES, "ratings", dry.clone(), new),
    )
    .await;
    assert_eq!(code, 201);
    assert!(created["metadata"]["uid"].is_string());
    assert_eq!(created["metadata"].get("resourceVersion"), None);

    let mut forced = dry.clone();
    forced.force = true;
    let changed = destination_rule("reviews", json!({"host": "reviews", "subsets": []}));
    let (code, answer) = call(
        &emulator,
        apply_with(DESTINATION_RULES, "reviews", forced, changed),
    )
    .await;
    assert_eq!((code, &answer["spec"]["subsets"]), (200, &json!([])));

    let post = PostParams {
        dry_run: true,
        field_manager: None,
    };
    let body =
        serde_json::to_vec(&destination_rule("details", json!({"host": "details"}))).unwrap();
    let (code, _) = call(
        &emulator,
        Request::new(DESTINATION_RULES).create(&post, body).unwrap(),
    )
    .await;
    assert_eq!(code, 201);
    let mut put = reviews.clone();
    put["spec"]["host"] = json!("reviews.bookinfo.svc.cluster.local");
    let body = serde_json::to_vec(&put).unwrap();
    let (code, replaced) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .replace("reviews", &post, body)
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, &replaced["spec"]["host"]),
        (200, &json!("reviews.bookinfo.svc.cluster.local"))
    );
    let delete = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    let (code, status) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .delete("reviews", &delete)
            .unwrap(),
    )
    .await;
    assert_eq!((code, &status["status"]), (200, &json!("Success")));

    assert_eq!(emulator.resource_version(), version);
    assert_eq!(
        stored(&emulator, "DestinationRule", "reviews"),
        Some(reviews)
    );
    assert_eq!(stored(&emulator, "DestinationRule", "ratings"), None);
    assert_eq!(stored(&emulator, "DestinationRule", "details"), None);
}

#[tokio::test]
async fn updates_check_the_resource_version_and_deletes_their_preconditions() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let reviews = stored(&emulator, "DestinationRule", "reviews").unwrap();
    let params = PostParams {
        dry_run: false,
        field_manager: Some("kubectl-edit".into()),
    };

    let mut stale = reviews.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["spec"]["subsets"] = json!([]);
    let body = serde_json::to_vec(&stale).unwrap();
    let (code, status) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .replace("reviews", &params, body)
            .unwrap(),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(
        status["message"],
        "Operation cannot be fulfilled on destinationrules.networking.istio.io \"reviews\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(status["reason"], "Conflict");

    let mut current = reviews.clone();
    current["spec"]["subsets"] = json!([]);
    let body = serde_json::to_vec(&current).unwrap();
    let (code, replaced) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .replace("reviews", &params, body)
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{replaced}");
    assert_eq!(replaced["metadata"]["generation"], 2);
    assert_eq!(
        owners(&replaced),
        json!([
            {"manager": "kubectl-client-side-apply", "operation": "Update",
             "apiVersion": "networking.istio.io/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {".": {}, "f:host": {}}}},
            {"manager": "kubectl-edit", "operation": "Update",
             "apiVersion": "networking.istio.io/v1", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:subsets": {}}}}
        ])
    );

    let uid = replaced["metadata"]["uid"].as_str().unwrap().to_owned();
    let wrong = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some("nope".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let (code, status) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .delete("reviews", &wrong)
            .unwrap(),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(
        status["message"],
        format!("Operation cannot be fulfilled on destinationrules.networking.istio.io \"reviews\": Precondition failed: UID in precondition: nope, UID in object meta: {uid}")
    );
    let right = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid.clone()),
            resource_version: replaced["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_owned),
        }),
        ..DeleteParams::default()
    };
    let (code, status) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .delete("reviews", &right)
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
               "details": {"name": "reviews", "group": "networking.istio.io", "kind": "destinationrules", "uid": uid}})
    );
    let (code, status) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .get("reviews", &Default::default())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(
        status["message"],
        "destinationrules.networking.istio.io \"reviews\" not found"
    );
}

#[tokio::test]
async fn objects_the_crd_schema_refuses_are_422_with_a_cause_per_field_and_unknown_fields_are_pruned(
) {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let config = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "ratings"},
        "spec": {"hosts": ["ratings"], "http": [{"timeout": "500us", "route": [{"destination": {"host": "ratings"}}]}]}
    });
    let (code, status) = call(
        &emulator,
        apply(VIRTUAL_SERVICES, "ratings", "team-a", config),
    )
    .await;
    assert_eq!(code, 422);
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(
        (
            &status["details"]["name"],
            &status["details"]["group"],
            &status["details"]["kind"]
        ),
        (
            &json!("ratings"),
            &json!("networking.istio.io"),
            &json!("VirtualService")
        )
    );
    let causes = status["details"]["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{status}");
    assert_eq!(causes[0]["reason"], "FieldValueInvalid");
    assert_eq!(causes[0]["field"], "spec.http[0].timeout");
    let message = causes[0]["message"].as_str().unwrap();
    assert!(
        message.ends_with("must be a valid duration greater than 1ms"),
        "{message}"
    );
    assert_eq!(
        status["message"],
        format!("VirtualService.networking.istio.io \"ratings\" is invalid: spec.http[0].timeout: {message}")
    );
    assert_eq!(stored(&emulator, "VirtualService", "ratings"), None);

    let unknown = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "ratings"},
        "spec": {"hosts": ["ratings"], "notAField": true}
    });
    let (code, created) = call(
        &emulator,
        apply(VIRTUAL_SERVICES, "ratings", "team-a", unknown),
    )
    .await;
    assert_eq!(
        (code, &created["spec"]),
        (201, &json!({"hosts": ["ratings"]}))
    );
}

#[tokio::test]
async fn rbac_refuses_writes_as_the_api_server_words_it_and_access_reviews_agree() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    emulator.forbid_writes("bookinfo");
    let config = destination_rule("ratings", json!({"host": "ratings"}));
    let (code, status) = call(
        &emulator,
        apply(DESTINATION_RULES, "ratings", "team-a", config),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        format!("destinationrules.networking.istio.io \"ratings\" is forbidden: User \"{USER}\" cannot patch resource \"destinationrules\" in API group \"networking.istio.io\" in the namespace \"bookinfo\"")
    );
    let (code, _) = call(
        &emulator,
        Request::new(DESTINATION_RULES)
            .get("reviews", &Default::default())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "reading is still allowed");

    let review = |namespace: &str, verb: &str| {
        let body = json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": namespace, "verb": verb,
                     "group": "networking.istio.io", "resource": "virtualservices"}}
        });
        Request::new("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
            .create(&PostParams::default(), serde_json::to_vec(&body).unwrap())
            .unwrap()
    };
    let (code, denied) = call(&emulator, review("bookinfo", "patch")).await;
    assert_eq!(code, 201);
    assert_eq!(denied["status"], json!({"allowed": false}));
    assert_eq!(denied["metadata"], json!({"creationTimestamp": null}));
    assert_eq!(denied["spec"]["resourceAttributes"]["verb"], "patch");
    let (_, read) = call(&emulator, review("bookinfo", "get")).await;
    assert_eq!(read["status"]["allowed"], true);
    assert!(read["status"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("RBAC: allowed by "));
    emulator.forbid_namespace("legacy");
    let (_, hidden) = call(&emulator, review("legacy", "get")).await;
    assert_eq!(hidden["status"]["allowed"], false);
}

#[tokio::test]
async fn istios_crds_are_served_at_the_versions_of_its_release_and_may_be_forbidden() {
    let crd = |emulator: &KubeEmulator| {
        emulator.object(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "",
            "virtualservices.networking.istio.io",
        )
    };
    let emulator = KubeEmulator::start().await;
    let request = || {
        Request::new("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
            .get("virtualservices.networking.istio.io", &Default::default())
            .unwrap()
    };
    let (code, served) = call(&emulator, request()).await;
    assert_eq!(code, 200);
    assert_eq!(served["kind"], "CustomResourceDefinition");
    let versions: Vec<(&str, bool)> = served["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["storage"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        versions,
        [("v1", true), ("v1alpha3", false), ("v1beta1", false)]
    );
    assert_eq!(served["status"]["storedVersions"], json!(["v1"]));
    assert!(crd(&emulator).is_some());

    let older = KubeEmulator::start_with(EmulatorOptions {
        istio: IstioApis::Before1_22,
        ..EmulatorOptions::default()
    })
    .await;
    let (_, served) = call(&older, request()).await;
    let names: Vec<&str> = served["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["v1alpha3", "v1beta1"]);

    emulator.forbid_crds();
    let (code, status) = call(&emulator, request()).await;
    assert_eq!(code, 403);
    assert_eq!(
        status["message"],
        format!("customresourcedefinitions.apiextensions.k8s.io \"virtualservices.networking.istio.io\" is forbidden: User \"{USER}\" cannot get resource \"customresourcedefinitions\" in API group \"apiextensions.k8s.io\" at the cluster scope")
    );
}
