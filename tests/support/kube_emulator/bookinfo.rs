//! Objects of Istio's Bookinfo sample as a cluster would hold them after
//! `kubectl apply -f samples/bookinfo/platform/kube/bookinfo.yaml` with sidecar injection
//! on (Istio 1.22), plus its gateway, a DestinationRule, an egress ServiceEntry, a
//! mesh-wide PeerAuthentication and a `legacy` namespace without injection.
//!
//! Derived by hand from the facts of Istio's Bookinfo sample (Apache-2.0, © Istio
//! Authors: names, labels, images, ports, service accounts); the status fields and the
//! injected sidecar are what Kubernetes 1.28 and Istio's injector add. Only the fields the
//! API would return are written; the server-set ones (uid, resourceVersion,
//! creationTimestamp, managedFields) come from the emulator.

use serde_json::{json, Value};

pub const PROXY_IMAGE: &str = "docker.io/istio/proxyv2:1.22.0";
const SAMPLE_TAG: &str = "1.20.3";

/// The Bookinfo deployments: (app, version).
pub const BOOKINFO: [(&str, &str); 6] = [
    ("details", "v1"),
    ("ratings", "v1"),
    ("reviews", "v1"),
    ("reviews", "v2"),
    ("reviews", "v3"),
    ("productpage", "v1"),
];

/// Everything, namespaces first (an API server would refuse objects in a namespace that
/// does not exist).
pub fn bookinfo_objects() -> Vec<Value> {
    let mut objects = vec![
        namespace("bookinfo", Some("enabled")),
        namespace("istio-system", None),
        namespace("legacy", None),
    ];
    for app in ["details", "ratings", "reviews", "productpage"] {
        objects.push(service("bookinfo", app, 9080));
    }
    for app in ["details", "ratings", "reviews", "productpage"] {
        let targets: Vec<EndpointTarget> = BOOKINFO
            .iter()
            .enumerate()
            .filter(|(_, (a, _))| *a == app)
            .map(|(index, (a, version))| EndpointTarget {
                pod: pod_name(&format!("{a}-{version}"), index),
                ip: pod_ip(index),
                ready: true,
            })
            .collect();
        objects.push(endpoint_slice("bookinfo", app, 9080, &targets));
    }
    for (index, (app, version)) in BOOKINFO.into_iter().enumerate() {
        let name = format!("{app}-{version}");
        let labels = json!({"app": app, "version": version});
        let image =
            format!("registry.istio.io/release/examples-bookinfo-{app}-{version}:{SAMPLE_TAG}");
        objects.push(deployment(
            "bookinfo",
            &name,
            &labels,
            &format!("bookinfo-{app}"),
            &image,
        ));
        objects.push(pod(PodSpec {
            namespace: "bookinfo",
            workload: &name,
            labels: &labels,
            app_container: Some((app, &image)),
            sidecar: true,
            index,
        }));
    }
    let gateway_labels = json!({"app": "istio-ingressgateway", "istio": "ingressgateway"});
    objects.push(service("istio-system", "istio-ingressgateway", 80));
    objects.push(deployment(
        "istio-system",
        "istio-ingressgateway",
        &gateway_labels,
        "istio-ingressgateway-service-account",
        PROXY_IMAGE,
    ));
    objects.push(pod(PodSpec {
        namespace: "istio-system",
        workload: "istio-ingressgateway",
        labels: &gateway_labels,
        app_container: None,
        sidecar: true,
        index: 10,
    }));
    let sleep_labels = json!({"app": "sleep"});
    let sleep_image = "curlimages/curl:8.8.0";
    objects.push(deployment(
        "legacy",
        "sleep",
        &sleep_labels,
        "sleep",
        sleep_image,
    ));
    objects.push(pod(PodSpec {
        namespace: "legacy",
        workload: "sleep",
        labels: &sleep_labels,
        app_container: Some(("sleep", sleep_image)),
        sidecar: false,
        index: 20,
    }));
    objects.extend(istio_config());
    objects
}

pub fn namespace(name: &str, injection: Option<&str>) -> Value {
    let mut labels = json!({"kubernetes.io/metadata.name": name});
    if let Some(injection) = injection {
        labels["istio-injection"] = json!(injection);
    }
    json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": labels},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

pub fn service(namespace: &str, app: &str, port: u16) -> Value {
    let cluster_ip = format!("10.96.{}.{}", app.len(), port % 250);
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {
            "name": app, "namespace": namespace,
            "labels": {"app": app, "service": app}
        },
        "spec": {
            "ports": [{"name": "http", "port": port, "protocol": "TCP", "targetPort": port}],
            "selector": {"app": app},
            "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
            "type": "ClusterIP", "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"
        },
        "status": {"loadBalancer": {}}
    })
}

pub fn deployment(
    namespace: &str,
    name: &str,
    labels: &Value,
    account: &str,
    image: &str,
) -> Value {
    let container = name.split('-').next().unwrap_or(name);
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": name, "namespace": namespace, "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": "1"}
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": account,
                    "containers": [{
                        "name": container, "image": image, "imagePullPolicy": "IfNotPresent",
                        "ports": [{"containerPort": 9080, "protocol": "TCP"}]
                    }]
                }
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600
        },
        "status": {
            "observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
            "readyReplicas": 1, "availableReplicas": 1
        }
    })
}

/// A pod-template-hash-shaped suffix, fixed per workload.
fn template_hash(workload: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in workload.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|i| ALPHABET[((hash >> (i * 6)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

pub struct PodSpec<'a> {
    pub namespace: &'a str,
    /// The Deployment that owns the pod through its ReplicaSet.
    pub workload: &'a str,
    pub labels: &'a Value,
    /// The application container (name, image); `None` for a gateway, whose only
    /// container is the proxy.
    pub app_container: Option<(&'a str, &'a str)>,
    pub sidecar: bool,
    /// Makes the pod's name and IP distinct.
    pub index: usize,
}

/// The name the ReplicaSet of `workload` gives its pod number `index`.
pub fn pod_name(workload: &str, index: usize) -> String {
    format!(
        "{workload}-{}-{}",
        template_hash(workload),
        &template_hash(&format!("{workload}{index}"))[..5]
    )
}

pub fn pod_ip(index: usize) -> String {
    format!("10.244.0.{}", 10 + index)
}

/// One endpoint of a slice: the pod it targets, its address, whether it is ready.
pub struct EndpointTarget {
    pub pod: String,
    pub ip: String,
    pub ready: bool,
}

/// The EndpointSlice the endpoint slice controller writes for a Service: named after the
/// service with a random suffix, labelled with the service's name and its manager, every
/// endpoint with its conditions, node and the pod it targets (a not ready endpoint is
/// still serving unless terminating, as for a pod failing its readiness probe).
pub fn endpoint_slice(
    namespace: &str,
    service: &str,
    port: u16,
    targets: &[EndpointTarget],
) -> Value {
    let endpoints: Vec<Value> = targets
        .iter()
        .map(|t| {
            json!({
                "addresses": [t.ip],
                "conditions": {"ready": t.ready, "serving": t.ready, "terminating": false},
                "nodeName": "kind-control-plane",
                "targetRef": {
                    "kind": "Pod", "namespace": namespace, "name": t.pod,
                    "uid": "3c1d8f7a-2b4e-4f60-9a1c-7e5d2b8c9f10"
                }
            })
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {
            "name": format!("{service}-{}", &template_hash(service)[..5]),
            "generateName": format!("{service}-"),
            "namespace": namespace,
            "labels": {
                "app": service, "service": service,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                "kubernetes.io/service-name": service
            },
            "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-11-24T10:00:05Z"},
            "ownerReferences": [{
                "apiVersion": "v1", "kind": "Service", "name": service,
                "uid": "9d2e4c1b-7f3a-4e5d-8b6c-1a2f3e4d5c6b",
                "controller": true, "blockOwnerDeletion": true
            }]
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": port, "protocol": "TCP"}]
    })
}

pub fn pod(spec: PodSpec<'_>) -> Value {
    let hash = template_hash(spec.workload);
    let replica_set = format!("{}-{hash}", spec.workload);
    let name = pod_name(spec.workload, spec.index);
    let mut labels = spec.labels.clone();
    labels["pod-template-hash"] = json!(hash);
    let mut annotations = json!({});
    let mut containers = Vec::new();
    let mut statuses = Vec::new();
    if let Some((container, image)) = spec.app_container {
        containers
            .push(json!({"name": container, "image": image, "imagePullPolicy": "IfNotPresent"}));
        statuses.push(container_status(container, image));
    }
    let mut init_containers = Vec::new();
    if spec.sidecar {
        labels["security.istio.io/tlsMode"] = json!("istio");
        labels["service.istio.io/canonical-name"] =
            json!(spec.labels["app"].as_str().unwrap_or(spec.workload));
        labels["service.istio.io/canonical-revision"] =
            json!(spec.labels["version"].as_str().unwrap_or("latest"));
        annotations["sidecar.istio.io/status"] = json!(
            "{\"initContainers\":[\"istio-init\"],\"containers\":[\"istio-proxy\"],\"volumes\":[\"workload-socket\",\"credential-socket\",\"workload-certs\",\"istio-envoy\",\"istio-data\",\"istio-podinfo\",\"istio-token\",\"istiod-ca-cert\"],\"imagePullSecrets\":null,\"revision\":\"default\"}"
        );
        annotations["prometheus.io/scrape"] = json!("true");
        annotations["prometheus.io/port"] = json!("15020");
        annotations["prometheus.io/path"] = json!("/stats/prometheus");
        containers.push(json!({
            "name": "istio-proxy", "image": PROXY_IMAGE,
            "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
            "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]
        }));
        init_containers.push(json!({
            "name": "istio-init", "image": PROXY_IMAGE,
            "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337"]
        }));
        statuses.push(container_status("istio-proxy", PROXY_IMAGE));
    }
    let ip = pod_ip(spec.index);
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "generateName": format!("{replica_set}-"),
            "namespace": spec.namespace, "labels": labels, "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                "uid": "5f0c3a9e-6a37-4d0b-9b4e-0d7c2f1e8a41",
                "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "containers": containers, "initContainers": init_containers,
            "nodeName": "kind-control-plane", "restartPolicy": "Always",
            "serviceAccountName": "default"
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-11-24T10:00:00Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-24T10:00:05Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-11-24T10:00:05Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-24T10:00:00Z"}
            ],
            "hostIP": "172.18.0.2", "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": "2026-11-24T10:00:00Z",
            "containerStatuses": statuses,
            "qosClass": "BestEffort"
        }
    })
}

fn container_status(name: &str, image: &str) -> Value {
    json!({
        "name": name, "image": image, "imageID": format!("{image}@sha256:{}", "0".repeat(64)),
        "containerID": format!("containerd://{}", "1".repeat(64)),
        "ready": true, "started": true, "restartCount": 0,
        "state": {"running": {"startedAt": "2026-11-24T10:00:03Z"}},
        "lastState": {}
    })
}

fn istio_config() -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "networking.istio.io/v1", "kind": "Gateway",
            "metadata": {"name": "bookinfo-gateway", "namespace": "bookinfo"},
            "spec": {
                "selector": {"istio": "ingressgateway"},
                "servers": [{"port": {"number": 8080, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]
            }
        }),
        json!({
            "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "bookinfo", "namespace": "bookinfo"},
            "spec": {
                "hosts": ["*"],
                "gateways": ["bookinfo-gateway"],
                "http": [{
                    "match": [{"uri": {"exact": "/productpage"}}, {"uri": {"prefix": "/static"}}],
                    "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]
                }]
            }
        }),
        json!({
            "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "reviews", "namespace": "bookinfo"},
            "spec": {
                "host": "reviews",
                "subsets": [
                    {"name": "v1", "labels": {"version": "v1"}},
                    {"name": "v2", "labels": {"version": "v2"}},
                    {"name": "v3", "labels": {"version": "v3"}}
                ]
            }
        }),
        json!({
            "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "httpbin-ext", "namespace": "bookinfo"},
            "spec": {
                "hosts": ["httpbin.org"],
                "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                "resolution": "DNS",
                "location": "MESH_EXTERNAL"
            }
        }),
        json!({
            "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "istio-system"},
            "spec": {"mtls": {"mode": "STRICT"}}
        }),
    ]
}
