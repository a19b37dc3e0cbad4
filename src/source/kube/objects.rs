//! Kubernetes objects reduced to inventory entries. Every string that enters the inventory
//! is sanitized here: names and labels come from whoever can write to the cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Container, Namespace, Pod, PodSpec, PodTemplateSpec, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;

use crate::mesh::inventory::{
    EndpointInfo, EndpointSliceInfo, GatewayRole, NamespaceInfo, PodInfo, PodPhase, ServiceInfo,
    ServicePort, WorkloadInfo, WorkloadKind,
};
use crate::mesh::rules::model::Version;
use crate::mesh::sanitize::sanitize;

/// The name Istio's injector gives the sidecar container.
const PROXY_CONTAINER: &str = "istio-proxy";
/// Written by Istio's injector on every pod it injected.
const SIDECAR_STATUS: &str = "sidecar.istio.io/status";
const SIDECAR_INJECT: &str = "sidecar.istio.io/inject";

/// The labels Istio's telemetry reads an app name from, most specific first, so that the
/// inventory names apps as the `*_app` metric labels do.
const APP_LABELS: [&str; 3] = [
    "app",
    "app.kubernetes.io/name",
    "service.istio.io/canonical-name",
];

type Labels = BTreeMap<String, String>;

fn first_label(labels: &Labels, keys: &[&str]) -> Option<String> {
    keys.iter()
        .filter_map(|key| labels.get(*key))
        .find(|value| !value.is_empty())
        .map(|value| sanitize(value))
}

/// The version in Kiali's order of labels (as Istio's telemetry reads a canonical
/// revision), sanitized, with the label it came from.
fn version_of(labels: &Labels) -> Option<Version> {
    let found = Version::from_labels(labels)?;
    let label = found.labels.into_keys().next()?;
    Some(Version::new(&sanitize(&found.name), &label))
}

pub fn namespace_info(namespace: &Namespace, cluster: &str) -> NamespaceInfo {
    let labels = namespace.labels();
    // A revision label (`istio.io/rev`) also turns injection on, unless injection is
    // explicitly disabled.
    let injection_enabled = match labels.get("istio-injection").map(String::as_str) {
        Some("enabled") => true,
        Some(_) => false,
        None => labels.contains_key("istio.io/rev"),
    };
    NamespaceInfo {
        cluster: cluster.to_owned(),
        name: sanitize(&namespace.name_any()),
        injection_enabled,
    }
}

pub fn service_info(service: &Service, cluster: &str) -> ServiceInfo {
    let name = sanitize(&service.name_any());
    let namespace = sanitize(&service.namespace().unwrap_or_default());
    let spec = service.spec.as_ref();
    let ports = spec
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .map(|p| ServicePort {
            name: p.name.as_deref().map(sanitize),
            port: p.port,
            target_port: match &p.target_port {
                Some(IntOrString::Int(n)) => n.to_string(),
                Some(IntOrString::String(name)) => sanitize(name),
                None => p.port.to_string(),
            },
            protocol: sanitize(p.protocol.as_deref().unwrap_or("TCP")),
        })
        .collect();
    ServiceInfo {
        cluster: cluster.to_owned(),
        host: format!("{name}.{namespace}.svc.cluster.local"),
        namespace,
        name,
        external: false,
        ports,
        selector: sanitized_labels(spec.and_then(|s| s.selector.as_ref())),
    }
}

/// Labels as the inventory keeps them: keys and values sanitized, shared.
fn sanitized_labels(labels: Option<&Labels>) -> crate::mesh::Labels {
    Arc::new(
        labels
            .into_iter()
            .flatten()
            .map(|(k, v)| (sanitize(k), sanitize(v)))
            .collect(),
    )
}

/// The label EndpointSlices name their Service by.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// A slice of a Service's endpoints; `None` for a slice no Service owns (a mirror or a
/// hand-made one), which no view can place.
pub fn endpoint_slice_info(slice: &EndpointSlice, cluster: &str) -> Option<EndpointSliceInfo> {
    let service = slice.labels().get(SERVICE_NAME_LABEL)?;
    let endpoints = slice
        .endpoints
        .iter()
        .map(|e| EndpointInfo {
            addresses: e.addresses.iter().map(|a| sanitize(a)).collect(),
            ready: e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true),
            pod: e
                .target_ref
                .as_ref()
                .filter(|t| t.kind.as_deref() == Some("Pod"))
                .and_then(|t| t.name.as_deref())
                .map(sanitize),
            node: e.node_name.as_deref().map(sanitize),
        })
        .collect();
    Some(EndpointSliceInfo {
        cluster: cluster.to_owned(),
        namespace: sanitize(&slice.namespace().unwrap_or_default()),
        name: sanitize(&slice.name_any()),
        service: sanitize(service),
        endpoints,
    })
}

/// What a workload's pod template says, before its pods are known.
struct Template<'a> {
    labels: Labels,
    annotations: Labels,
    spec: Option<&'a PodSpec>,
}

impl<'a> Template<'a> {
    fn of(template: &'a PodTemplateSpec) -> Self {
        let metadata = template.metadata.as_ref();
        Template {
            labels: metadata.and_then(|m| m.labels.clone()).unwrap_or_default(),
            annotations: metadata
                .and_then(|m| m.annotations.clone())
                .unwrap_or_default(),
            spec: template.spec.as_ref(),
        }
    }

    /// Injected pods are only known once they exist; the template can still say so when
    /// it asks for injection or already carries the proxy (manual injection).
    fn sidecar(&self) -> bool {
        let asked = [&self.labels, &self.annotations]
            .iter()
            .any(|map| map.get(SIDECAR_INJECT).is_some_and(|v| v == "true"));
        asked
            || self
                .spec
                .is_some_and(|spec| proxy_container(spec).is_some())
    }

    fn gateway(&self) -> Option<GatewayRole> {
        match self.labels.get("istio").map(String::as_str) {
            Some("ingressgateway") => Some(GatewayRole::Ingress),
            Some("egressgateway") => Some(GatewayRole::Egress),
            _ => None,
        }
    }
}

fn workload_info(
    meta: &impl ResourceExt,
    kind: WorkloadKind,
    template: &Template<'_>,
    cluster: &str,
    (ready, desired): (i32, i32),
) -> WorkloadInfo {
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    let version = version_of(&template.labels);
    WorkloadInfo {
        cluster: cluster.to_owned(),
        namespace: sanitize(&meta.namespace().unwrap_or_default()),
        name: sanitize(&meta.name_any()),
        kind,
        app: first_label(&template.labels, &APP_LABELS),
        version: version.as_ref().map(|v| v.name.clone()),
        version_label: version.and_then(|v| v.labels.into_keys().next()),
        sidecar_injected: template.sidecar(),
        gateway: template.gateway(),
        pods_ready: count(ready),
        pods_desired: count(desired),
        labels: sanitized_labels(Some(&template.labels)),
    }
}

pub fn deployment_info(deployment: &Deployment, cluster: &str) -> Option<WorkloadInfo> {
    let spec = deployment.spec.as_ref()?;
    let status = deployment.status.as_ref();
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    // `replicas` left out means one, as the API server defaults it.
    let desired = spec.replicas.unwrap_or(1);
    let template = Template::of(&spec.template);
    Some(workload_info(
        deployment,
        WorkloadKind::Deployment,
        &template,
        cluster,
        (ready, desired),
    ))
}

pub fn stateful_set_info(set: &StatefulSet, cluster: &str) -> Option<WorkloadInfo> {
    let spec = set.spec.as_ref()?;
    let ready = set.status.as_ref().and_then(|s| s.ready_replicas);
    let template = Template::of(&spec.template);
    Some(workload_info(
        set,
        WorkloadKind::StatefulSet,
        &template,
        cluster,
        (ready.unwrap_or(0), spec.replicas.unwrap_or(1)),
    ))
}

pub fn daemon_set_info(set: &DaemonSet, cluster: &str) -> Option<WorkloadInfo> {
    let spec = set.spec.as_ref()?;
    let status = set.status.as_ref();
    let ready = status.map(|s| s.number_ready).unwrap_or(0);
    let desired = status.map(|s| s.desired_number_scheduled).unwrap_or(0);
    let template = Template::of(&spec.template);
    Some(workload_info(
        set,
        WorkloadKind::DaemonSet,
        &template,
        cluster,
        (ready, desired),
    ))
}

/// The sidecar container: a regular container, or a native sidecar (an init container
/// that keeps running) as Istio injects on Kubernetes 1.29 and later.
fn proxy_container(spec: &PodSpec) -> Option<&Container> {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == PROXY_CONTAINER)
}

/// The version in an image reference's tag: `docker.io/istio/proxyv2:1.22.0-distroless`
/// gives `1.22.0`. A reference by digest only has no version.
pub fn image_version(image: &str) -> Option<String> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_part = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let (_, tag) = last_part.split_once(':')?;
    let version = tag
        .strip_suffix("-distroless")
        .or_else(|| tag.strip_suffix("-debug"))
        .unwrap_or(tag);
    (!version.is_empty()).then(|| sanitize(version))
}

/// The workload that owns a pod: a ReplicaSet stands for its Deployment, whose name is the
/// ReplicaSet's without the pod-template hash.
fn owning_workload(pod: &Pod) -> Option<String> {
    let owner = pod
        .owner_references()
        .iter()
        .find(|o| o.controller == Some(true))?;
    match owner.kind.as_str() {
        "ReplicaSet" => {
            let hash = pod.labels().get("pod-template-hash");
            let name = match hash.and_then(|h| owner.name.strip_suffix(h.as_str())) {
                Some(stripped) => stripped.strip_suffix('-').unwrap_or(stripped),
                None => owner.name.as_str(),
            };
            Some(sanitize(name))
        }
        "StatefulSet" | "DaemonSet" => Some(sanitize(&owner.name)),
        _ => None,
    }
}

fn phase(text: Option<&str>) -> PodPhase {
    match text {
        Some("Pending") => PodPhase::Pending,
        Some("Running") => PodPhase::Running,
        Some("Succeeded") => PodPhase::Succeeded,
        Some("Failed") => PodPhase::Failed,
        _ => PodPhase::Unknown,
    }
}

pub fn pod_info(pod: &Pod, cluster: &str) -> PodInfo {
    let spec = pod.spec.as_ref();
    let proxy = spec.and_then(proxy_container);
    let sidecar_injected = proxy.is_some() || pod.annotations().contains_key(SIDECAR_STATUS);
    let status = pod.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let restarts = status
        .into_iter()
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
        })
        .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
        .fold(0u32, u32::saturating_add);
    let version = version_of(pod.labels());
    PodInfo {
        cluster: cluster.to_owned(),
        namespace: sanitize(&pod.namespace().unwrap_or_default()),
        name: sanitize(&pod.name_any()),
        workload: owning_workload(pod),
        app: first_label(pod.labels(), &APP_LABELS),
        version: version.as_ref().map(|v| v.name.clone()),
        version_label: version.and_then(|v| v.labels.into_keys().next()),
        sidecar_injected,
        proxy_version: proxy
            .and_then(|c| c.image.as_deref())
            .and_then(image_version),
        phase: phase(status.and_then(|s| s.phase.as_deref())),
        ready,
        restarts,
        node: spec.and_then(|s| s.node_name.as_deref()).map(sanitize),
        started_at_unix_s: status
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0.timestamp_millis() as f64 / 1000.0),
        ip: status.and_then(|s| s.pod_ip.as_deref()).map(sanitize),
        labels: sanitized_labels(Some(pod.labels())),
    }
}

#[cfg(test)]
#[path = "objects_tests.rs"]
mod tests;
