use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;
use crate::source::kube::watch::strip_bookkeeping;

fn reviews_pod() -> Pod {
    serde_json::from_value(json!({
        "metadata": {
            "name": "reviews-v2-5b667bcbf8-x7k2p",
            "namespace": "bookinfo",
            "labels": {"app": "reviews", "version": "v2", "pod-template-hash": "5b667bcbf8"},
            "annotations": {"sidecar.istio.io/status": "{\"revision\":\"default\"}"},
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "reviews-v2-5b667bcbf8",
                "uid": "7d3e2c1a-0000-4000-8000-000000000001", "controller": true
            }],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}]
        },
        "spec": {
            "containers": [
                {"name": "reviews", "image": "registry.istio.io/release/examples-bookinfo-reviews-v2:1.20.3"},
                {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0"}
            ]
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "reviews", "ready": true, "restartCount": 2, "image": "", "imageID": ""},
                {"name": "istio-proxy", "ready": true, "restartCount": 1, "image": "", "imageID": ""}
            ]
        }
    }))
    .unwrap()
}

#[test]
fn an_injected_pod_names_its_deployment_proxy_version_and_restarts() {
    let pod = pod_info(&reviews_pod(), "Kubernetes");
    assert_eq!(pod.workload.as_deref(), Some("reviews-v2"));
    assert_eq!(pod.app.as_deref(), Some("reviews"));
    assert_eq!(pod.version.as_deref(), Some("v2"));
    assert!(pod.sidecar_injected);
    assert_eq!(pod.proxy_version.as_deref(), Some("1.22.0"));
    assert_eq!(pod.phase, PodPhase::Running);
    assert!(pod.ready);
    assert_eq!(pod.restarts, 3);
}

#[test]
fn a_native_sidecar_in_the_init_containers_counts_as_injected() {
    let mut pod = reviews_pod();
    let spec = pod.spec.as_mut().unwrap();
    let proxy = spec.containers.pop().unwrap();
    spec.init_containers = Some(vec![proxy]);
    pod.metadata.annotations = None;
    let info = pod_info(&pod, "Kubernetes");
    assert!(info.sidecar_injected);
    assert_eq!(info.proxy_version.as_deref(), Some("1.22.0"));
}

#[test]
fn image_versions_come_from_the_tag_not_the_registry_port_or_digest() {
    let cases = [
        ("docker.io/istio/proxyv2:1.22.0", Some("1.22.0")),
        (
            "registry.local:5000/istio/proxyv2:1.21.2-distroless",
            Some("1.21.2"),
        ),
        (
            "gcr.io/istio-release/proxyv2:1.20.1@sha256:0123abcd",
            Some("1.20.1"),
        ),
        ("registry.local:5000/istio/proxyv2", None),
        ("docker.io/istio/proxyv2@sha256:0123abcd", None),
    ];
    for (image, expected) in cases {
        assert_eq!(image_version(image).as_deref(), expected, "{image}");
    }
}

#[test]
fn an_ingress_gateway_deployment_is_a_gateway_with_its_ready_pods() {
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"istio": "ingressgateway"}},
            "template": {
                "metadata": {"labels": {"istio": "ingressgateway", "app": "istio-ingressgateway"}},
                "spec": {"containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0"}]}
            }
        },
        "status": {"readyReplicas": 1}
    }))
    .unwrap();
    let workload = deployment_info(&deployment, "Kubernetes").unwrap();
    assert_eq!(workload.gateway, Some(GatewayRole::Ingress));
    assert!(workload.sidecar_injected);
    assert_eq!((workload.pods_ready, workload.pods_desired), (1, 2));
}

#[test]
fn escape_sequences_in_names_and_labels_do_not_reach_the_inventory() {
    let mut pod = reviews_pod();
    pod.metadata.name = Some("evil\u{1b}]0;owned\u{7}-pod".into());
    if let Some(labels) = pod.metadata.labels.as_mut() {
        labels.insert("app".into(), "rev\u{1b}[31miews".into());
    }
    let info = pod_info(&pod, "Kubernetes");
    assert_eq!(info.name, "evil-pod");
    assert_eq!(info.app.as_deref(), Some("reviews"));
}

#[test]
fn stored_objects_lose_their_managed_fields_and_last_applied_copy() {
    let mut pod = reviews_pod();
    pod.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            "kubectl.kubernetes.io/last-applied-configuration".into(),
            "{}".into(),
        );
    strip_bookkeeping(&mut pod);
    assert!(pod.metadata.managed_fields.unwrap_or_default().is_empty());
    let annotations = pod.metadata.annotations.unwrap_or_default();
    assert!(!annotations.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
    assert!(annotations.contains_key("sidecar.istio.io/status"));
}

#[test]
fn a_pods_version_comes_from_the_first_of_kialis_labels_and_names_that_label() {
    // (case, labels, (version, label))
    type Case<'a> = (&'a str, serde_json::Value, Option<(&'a str, &'a str)>);
    let cases: [Case; 4] = [
        (
            "version alone",
            json!({"version": "v2"}),
            Some(("v2", "version")),
        ),
        (
            "app.kubernetes.io/version alone",
            json!({"app.kubernetes.io/version": "1.4"}),
            Some(("1.4", "app.kubernetes.io/version")),
        ),
        (
            "the canonical revision first",
            json!({"version": "v2", "service.istio.io/canonical-revision": "rev-7"}),
            Some(("rev-7", "service.istio.io/canonical-revision")),
        ),
        ("none", json!({"app": "reviews"}), None),
    ];
    for (name, labels, want) in cases {
        let mut pod = reviews_pod();
        pod.metadata.labels = serde_json::from_value(labels).unwrap();
        let info = pod_info(&pod, "Kubernetes");
        let got = info.version.as_deref().zip(info.version_label.as_deref());
        assert_eq!(got, want, "{name}");
    }
}
