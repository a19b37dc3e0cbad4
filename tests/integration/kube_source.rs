//! The Kubernetes inventory source through the real `kube::Client`, over HTTP, against
//! the API emulator seeded with Bookinfo: initial lists, watch changes, dropped and
//! expired watches, RBAC, an API server going away, throttling or failing and coming
//! back, and Istio releases that serve their configuration at other versions.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::runtime::WatchStreamExt;
use meshtui::mesh::inventory::{GatewayRole, IstioKind, NamespaceRef, PodPhase};
use meshtui::source::kube::{watch_inventory, InventorySettings};
use meshtui::source::{InventoryFeed, InventoryHealth, InventoryState};
use serde_json::json;

use crate::support::kube_emulator::{
    bookinfo_objects, endpoint_slice, pod_ip, pod_name, EmulatorOptions, EndpointTarget, Fault,
    IstioApis, KubeEmulator,
};

/// Only guards against a hang: every wait ends as soon as the feed shows what it waits for.
const HANG_GUARD: Duration = Duration::from_secs(60);

async fn wait_for(
    feed: &mut InventoryFeed,
    what: &str,
    holds: impl Fn(&InventoryState) -> bool,
) -> InventoryState {
    loop {
        {
            let state = feed.borrow_and_update();
            if holds(&state) {
                return state.clone();
            }
        }
        let changed = tokio::time::timeout(HANG_GUARD, feed.changed()).await;
        match changed {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("the inventory task ended while waiting for {what}"),
            Err(_) => panic!(
                "no inventory showed {what}; the last was {:#?}",
                *feed.borrow()
            ),
        }
    }
}

fn has_pod(state: &InventoryState, name: &str) -> bool {
    state.inventory.pods.iter().any(|p| p.name == name)
}

fn is_ok(state: &InventoryState) -> bool {
    state.health == InventoryHealth::Ok
}

fn all_namespaces() -> InventorySettings {
    InventorySettings {
        namespaces: Vec::new(),
        cluster: "Kubernetes".into(),
    }
}

/// A Bookinfo pod of another reviews replica, as the ReplicaSet would create it.
fn extra_reviews_pod(name: &str) -> serde_json::Value {
    let mut pod = bookinfo_objects()
        .into_iter()
        .find(|o| o["kind"] == "Pod" && o["metadata"]["labels"]["version"] == "v2")
        .expect("Bookinfo has a reviews-v2 pod");
    pod["metadata"]["name"] = json!(name);
    pod
}

#[tokio::test]
async fn the_initial_lists_fill_the_inventory_with_bookinfo() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a synced inventory", is_ok).await;
    let inventory = &state.inventory;

    let productpage = inventory
        .pods
        .iter()
        .find(|p| p.app.as_deref() == Some("productpage"))
        .expect("the productpage pod");
    assert_eq!(productpage.workload.as_deref(), Some("productpage-v1"));
    assert!(productpage.sidecar_injected);
    assert_eq!(productpage.proxy_version.as_deref(), Some("1.22.0"));
    assert_eq!(productpage.phase, PodPhase::Running);
    assert!(productpage.ready);
    let sleep = inventory
        .pods
        .iter()
        .find(|p| p.namespace == "legacy")
        .unwrap();
    assert!(!sleep.sidecar_injected);
    assert_eq!(sleep.proxy_version, None);

    let reviews_v2 = inventory
        .workload("Kubernetes", "bookinfo", "reviews-v2")
        .unwrap();
    assert_eq!(reviews_v2.app.as_deref(), Some("reviews"));
    assert_eq!(reviews_v2.version.as_deref(), Some("v2"));
    assert!(reviews_v2.sidecar_injected);
    assert_eq!((reviews_v2.pods_ready, reviews_v2.pods_desired), (1, 1));
    assert!(
        !inventory
            .workload("Kubernetes", "legacy", "sleep")
            .unwrap()
            .sidecar_injected
    );
    let gateway = inventory
        .workload("Kubernetes", "istio-system", "istio-ingressgateway")
        .unwrap();
    assert_eq!(gateway.gateway, Some(GatewayRole::Ingress));
    assert_eq!(
        inventory
            .pods_of("Kubernetes", "bookinfo", "reviews-v3")
            .count(),
        1
    );

    let reviews = inventory
        .service_by_host("reviews.bookinfo.svc.cluster.local")
        .unwrap();
    assert!(!reviews.external);
    assert!(inventory.service_by_host("httpbin.org").unwrap().external);

    let bookinfo = inventory
        .namespaces
        .iter()
        .find(|n| n.name == "bookinfo")
        .unwrap();
    assert!(bookinfo.injection_enabled);
    let routes: Vec<_> = inventory
        .istio_config_of(IstioKind::VirtualService)
        .collect();
    assert_eq!(routes.len(), 1);
    assert_eq!(
        (routes[0].name.as_str(), routes[0].hosts.clone()),
        ("bookinfo", vec!["*".to_owned()])
    );
    let rules: Vec<_> = inventory
        .istio_config_of(IstioKind::DestinationRule)
        .collect();
    assert_eq!(rules[0].hosts, vec!["reviews".to_owned()]);
    assert_eq!(inventory.istio_config_of(IstioKind::Gateway).count(), 1);
    assert_eq!(
        inventory
            .istio_config_of(IstioKind::PeerAuthentication)
            .count(),
        1
    );
    assert!(inventory.inaccessible_namespaces.is_empty());
    task.abort();
}

#[tokio::test]
async fn a_pod_added_while_watching_shows_up_and_disappears_when_deleted() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    wait_for(&mut feed, "a synced inventory", is_ok).await;

    emulator.create(extra_reviews_pod("reviews-v2-extra"));
    let state = wait_for(&mut feed, "the new pod", |s| has_pod(s, "reviews-v2-extra")).await;
    assert_eq!(
        state
            .inventory
            .pods_of("Kubernetes", "bookinfo", "reviews-v2")
            .count(),
        2
    );

    emulator.delete("v1", "Pod", "bookinfo", "reviews-v2-extra");
    wait_for(&mut feed, "the pod gone", |s| {
        !has_pod(s, "reviews-v2-extra")
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn a_restarting_pod_shows_its_restarts_and_readiness() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a synced inventory", is_ok).await;
    let ratings = state
        .inventory
        .pods_of("Kubernetes", "bookinfo", "ratings-v1")
        .next()
        .unwrap();
    let mut pod = emulator
        .object("v1", "Pod", "bookinfo", &ratings.name)
        .unwrap();
    pod["apiVersion"] = json!("v1");
    pod["kind"] = json!("Pod");
    pod["status"]["containerStatuses"][0]["restartCount"] = json!(4);
    pod["status"]["conditions"][1]["status"] = json!("False");
    emulator.replace(pod);

    let name = ratings.name.clone();
    let state = wait_for(&mut feed, "the restarts", |s| {
        s.inventory
            .pods
            .iter()
            .any(|p| p.name == name && p.restarts == 4)
    })
    .await;
    let ratings = state
        .inventory
        .pods
        .iter()
        .find(|p| p.name == name)
        .unwrap();
    assert!(!ratings.ready);
    task.abort();
}

#[tokio::test]
async fn a_dropped_watch_is_reestablished_and_keeps_updating() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    wait_for(&mut feed, "a synced inventory", is_ok).await;

    emulator.drop_watches();
    emulator.create(extra_reviews_pod("after-the-drop"));
    let state = wait_for(&mut feed, "the pod created after the drop", |s| {
        has_pod(s, "after-the-drop")
    })
    .await;
    assert_eq!(state.health, InventoryHealth::Ok);
    task.abort();
}

#[tokio::test]
async fn an_expired_resource_version_makes_the_watcher_relist_and_recover() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a synced inventory", is_ok).await;
    let sleep = state
        .inventory
        .pods
        .iter()
        .find(|p| p.namespace == "legacy")
        .unwrap();

    // The deletion never reaches the watch and its history is compacted away: only a
    // new list, after the 410 the re-watch gets, can show it.
    emulator.pause_delivery();
    emulator.delete("v1", "Pod", "legacy", &sleep.name);
    emulator.compact();
    emulator.drop_watches();
    emulator.resume_delivery();

    let state = wait_for(&mut feed, "the deleted pod gone", |s| {
        !s.inventory.pods.iter().any(|p| p.namespace == "legacy")
    })
    .await;
    assert_eq!(
        state
            .inventory
            .pods_of("Kubernetes", "bookinfo", "reviews-v1")
            .count(),
        1
    );
    emulator.create(extra_reviews_pod("after-the-relist"));
    wait_for(&mut feed, "a pod created after the re-list", |s| {
        has_pod(s, "after-the-relist") && is_ok(s)
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn a_forbidden_namespace_is_inaccessible_while_the_other_namespace_still_arrives() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    emulator.forbid_namespace("legacy");
    let settings = InventorySettings {
        namespaces: vec!["bookinfo".into(), "legacy".into()],
        cluster: "Kubernetes".into(),
    };
    let (mut feed, task) = watch_inventory(emulator.client(), settings);
    let state = wait_for(&mut feed, "bookinfo listed, legacy marked", |s| {
        is_ok(s) && !s.inventory.inaccessible_namespaces.is_empty()
    })
    .await;
    assert_eq!(
        state.inventory.inaccessible_namespaces,
        vec![NamespaceRef::new("Kubernetes", "legacy")]
    );
    assert!(state.inventory.is_accessible("Kubernetes", "bookinfo"));
    assert!(state
        .inventory
        .workload("Kubernetes", "bookinfo", "productpage-v1")
        .is_some());
    assert!(state
        .inventory
        .pods
        .iter()
        .all(|p| p.namespace == "bookinfo"));
    // Only the namespaces asked for, the unreadable one included.
    let names: Vec<&str> = state
        .inventory
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(names, ["bookinfo", "legacy"]);

    emulator.create(extra_reviews_pod("while-legacy-is-forbidden"));
    wait_for(&mut feed, "bookinfo still updating", |s| {
        has_pod(s, "while-legacy-is-forbidden")
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn with_the_api_down_the_last_inventory_stays_and_health_recovers_when_it_returns() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let synced = wait_for(&mut feed, "a synced inventory", is_ok).await;

    emulator.go_down();
    let down = wait_for(&mut feed, "a failing source", |s| {
        matches!(s.health, InventoryHealth::Failing(_))
    })
    .await;
    assert_eq!(down.inventory, synced.inventory);
    let InventoryHealth::Failing(message) = &down.health else {
        unreachable!()
    };
    assert!(message.contains("cannot reach the API server"), "{message}");

    emulator.come_back().await;
    wait_for(&mut feed, "the source healthy again", is_ok).await;
    emulator.create(extra_reviews_pod("after-the-outage"));
    wait_for(&mut feed, "a pod created after the outage", |s| {
        has_pod(s, "after-the-outage")
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn when_the_api_server_throttles_or_fails_the_last_inventory_stays_and_health_recovers() {
    let faults = [
        // A list refused this way says 429; a watch only that its answer was no event.
        (
            Fault::TooManyRequests { retry_after_s: 1 },
            "throttling requests",
        ),
        (
            Fault::InternalError("etcdserver: request timed out".into()),
            "the API server failed (500): etcdserver: request timed out",
        ),
    ];
    for (fault, says) in faults {
        let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
        let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
        let synced = wait_for(&mut feed, "a synced inventory", is_ok).await;
        assert_eq!(synced.stale_since_unix_s, None);

        // Open watches carry on through a fault; the ones that start again meet it.
        emulator.fail_requests(Some(fault));
        emulator.drop_watches();
        let failing = wait_for(
            &mut feed,
            says,
            |s| matches!(&s.health, InventoryHealth::Failing(m) if m.contains(says)),
        )
        .await;
        assert_eq!(failing.inventory, synced.inventory, "{says}");
        assert!(failing.stale_since_unix_s.is_some(), "{says}");

        emulator.fail_requests(None);
        wait_for(&mut feed, "the source healthy again", |s| {
            is_ok(s) && s.stale_since_unix_s.is_none()
        })
        .await;
        emulator.create(extra_reviews_pod("after-the-fault"));
        wait_for(&mut feed, "a pod created after the fault", |s| {
            has_pod(s, "after-the-fault")
        })
        .await;
        task.abort();
    }
}

#[tokio::test]
async fn access_taken_away_while_watching_marks_the_namespace_until_it_is_given_back() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let settings = InventorySettings {
        namespaces: vec!["bookinfo".into(), "legacy".into()],
        cluster: "Kubernetes".into(),
    };
    let (mut feed, task) = watch_inventory(emulator.client(), settings);
    wait_for(&mut feed, "a synced inventory", is_ok).await;

    // RBAC is checked when a watch starts, so the change shows at the next one.
    emulator.forbid_namespace("legacy");
    emulator.drop_watches();
    let marked = wait_for(&mut feed, "legacy marked inaccessible", |s| {
        s.inventory.inaccessible_namespaces == [NamespaceRef::new("Kubernetes", "legacy")]
    })
    .await;
    assert_eq!(marked.health, InventoryHealth::Ok);
    assert!(
        marked
            .inventory
            .workload("Kubernetes", "legacy", "sleep")
            .is_some(),
        "what was listed before stays"
    );

    // Access back, the watchers see it without any object changing.
    emulator.allow_namespace("legacy");
    let state = wait_for(&mut feed, "legacy accessible again", |s| {
        s.inventory.inaccessible_namespaces.is_empty()
    })
    .await;
    assert!(state
        .inventory
        .workload("Kubernetes", "legacy", "sleep")
        .is_some());
    task.abort();
}

/// Bookinfo as a cluster with Istio before 1.22 holds it: Istio's objects at `v1beta1`.
fn bookinfo_at_v1beta1() -> Vec<serde_json::Value> {
    bookinfo_objects()
        .into_iter()
        .map(|mut object| {
            let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
            if let Some(group) = api_version.strip_suffix("/v1") {
                if group.ends_with(".istio.io") {
                    object["apiVersion"] = json!(format!("{group}/v1beta1"));
                }
            }
            object
        })
        .collect()
}

#[tokio::test]
async fn istio_before_1_22_is_read_at_v1beta1_and_keeps_updating() {
    let options = EmulatorOptions {
        istio: IstioApis::Before1_22,
        ..EmulatorOptions::default()
    };
    let emulator = KubeEmulator::with_options_and_objects(options, bookinfo_at_v1beta1()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "Istio's configuration listed", |s| {
        is_ok(s) && !s.inventory.istio_config.is_empty()
    })
    .await;
    let inventory = &state.inventory;
    for kind in [
        IstioKind::VirtualService,
        IstioKind::DestinationRule,
        IstioKind::Gateway,
        IstioKind::ServiceEntry,
        IstioKind::PeerAuthentication,
    ] {
        assert_eq!(inventory.istio_config_of(kind).count(), 1, "{kind:?}");
    }
    assert!(inventory.service_by_host("httpbin.org").unwrap().external);

    emulator.create(json!({
        "apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
        "metadata": {"name": "ratings", "namespace": "bookinfo"},
        "spec": {"hosts": ["ratings"], "http": [{"route": [{"destination": {"host": "ratings"}}]}]}
    }));
    wait_for(&mut feed, "the new VirtualService", |s| {
        s.inventory
            .istio_config_of(IstioKind::VirtualService)
            .any(|c| c.name == "ratings")
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn without_istio_installed_the_inventory_is_complete_and_healthy() {
    let options = EmulatorOptions {
        istio: IstioApis::NotInstalled,
        ..EmulatorOptions::default()
    };
    let objects = bookinfo_objects().into_iter().filter(|o| {
        !o["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .contains(".istio.io")
    });
    let emulator = KubeEmulator::with_options_and_objects(options, objects).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a synced inventory", is_ok).await;
    assert!(state.inventory.istio_config.is_empty());
    assert!(state
        .inventory
        .workload("Kubernetes", "bookinfo", "productpage-v1")
        .is_some());
    task.abort();
}

#[tokio::test]
async fn rejected_credentials_show_as_failing_with_unauthorized() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    emulator.reject_credentials(true);
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a failing source", |s| {
        matches!(s.health, InventoryHealth::Failing(_))
    })
    .await;
    let InventoryHealth::Failing(message) = state.health else {
        unreachable!()
    };
    assert!(message.contains("unauthorized"), "{message}");
    task.abort();
}

#[tokio::test]
async fn escape_sequences_in_object_names_and_hosts_do_not_reach_the_inventory() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    emulator.create(extra_reviews_pod("evil\u{1b}]0;pwned\u{7}-pod\u{1b}[2J"));
    emulator.create(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "evil", "namespace": "bookinfo"},
        "spec": {"hosts": ["api.\u{1b}[31mexample\u{1b}[0m.com"], "location": "MESH_EXTERNAL"}
    }));
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a synced inventory", is_ok).await;
    assert!(has_pod(&state, "evil-pod"));
    assert!(state.inventory.service_by_host("api.example.com").is_some());
    let debug = format!("{:?}", state.inventory);
    assert!(
        !debug.contains("\\u{1b}"),
        "an escape reached the inventory"
    );
    task.abort();
}

async fn next<S: WatchStreamExt>(stream: &mut Pin<&mut S>) -> Option<S::Item> {
    poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

#[tokio::test]
async fn the_emulator_speaks_the_api_servers_wire_format_to_kube_client() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let pods: Api<Pod> = Api::namespaced(emulator.client(), "bookinfo");

    let first = pods.list(&ListParams::default().limit(4)).await.unwrap();
    assert_eq!(first.items.len(), 4);
    let token = first.metadata.continue_.clone().expect("a continue token");
    let rest = pods
        .list(&ListParams::default().limit(4).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.metadata.continue_.is_none());
    let listed = &first.items[0].metadata;
    assert!(listed.uid.is_some() && listed.creation_timestamp.is_some());
    // Stored objects carry managedFields, so the source's stripping has work to do.
    assert!(!listed.managed_fields.clone().unwrap_or_default().is_empty());
    let name = listed.name.clone().unwrap();
    let stored = emulator.object("v1", "Pod", "bookinfo", &name).unwrap();
    assert_eq!(
        stored["metadata"]["managedFields"][0]["fieldsType"],
        "FieldsV1"
    );

    let missing = pods.get("nope").await.unwrap_err();
    assert!(matches!(missing, kube::Error::Api(ref e) if e.code == 404 && e.reason == "NotFound"));
    emulator.forbid_namespace("bookinfo");
    let forbidden = pods.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(forbidden, kube::Error::Api(ref e) if e.code == 403 && e.reason == "Forbidden")
    );
    emulator.allow_namespace("bookinfo");

    let version = emulator.resource_version();
    emulator.create(extra_reviews_pod("watched"));
    let stream = pods
        .watch(&WatchParams::default().timeout(10), &version.to_string())
        .await
        .unwrap();
    let mut stream = std::pin::pin!(stream);
    let added = next(&mut stream).await.unwrap().unwrap();
    assert!(
        matches!(added, WatchEvent::Added(ref p) if p.metadata.name.as_deref() == Some("watched"))
    );
    emulator.bookmark();
    let bookmark = next(&mut stream).await.unwrap().unwrap();
    assert!(
        matches!(bookmark, WatchEvent::Bookmark(ref b) if b.metadata.resource_version == (version + 1).to_string())
    );

    emulator.compact();
    let stale = pods
        .watch(&WatchParams::default(), &version.to_string())
        .await
        .unwrap();
    let mut stale = std::pin::pin!(stale);
    let gone = next(&mut stale).await.unwrap().unwrap();
    assert!(matches!(gone, WatchEvent::Error(ref e) if e.code == 410 && e.reason == "Expired"));
    assert!(next(&mut stale).await.is_none(), "the expired watch ends");
}

#[tokio::test]
async fn pods_carry_their_node_start_time_address_and_restarts() {
    let mut objects = bookinfo_objects();
    // ratings-v1 crash-looped twice and now waits to start again.
    let ratings = objects
        .iter_mut()
        .find(|o| o["kind"] == "Pod" && o["metadata"]["labels"]["app"] == "ratings")
        .unwrap();
    ratings["status"]["phase"] = json!("Pending");
    ratings["status"]["containerStatuses"][0]["restartCount"] = json!(2);
    let emulator = KubeEmulator::with_objects(objects).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a synced inventory", is_ok).await;
    let pod = |app: &str| {
        state
            .inventory
            .pods
            .iter()
            .find(|p| p.app.as_deref() == Some(app))
            .unwrap_or_else(|| panic!("a {app} pod"))
    };

    let details = pod("details");
    assert_eq!(details.node.as_deref(), Some("kind-control-plane"));
    assert_eq!(details.ip.as_deref(), Some("10.244.0.10"));
    // 2026-11-24T10:00:00Z
    assert_eq!(details.started_at_unix_s, Some(1_795_514_400.0));
    assert_eq!(details.phase, PodPhase::Running);
    assert_eq!(details.restarts, 0);
    assert!(details.sidecar_injected);
    assert_eq!(details.proxy_version.as_deref(), Some("1.22.0"));
    assert_eq!(
        details.labels.get("version").map(String::as_str),
        Some("v1")
    );

    let ratings = pod("ratings");
    assert_eq!(ratings.phase, PodPhase::Pending);
    assert_eq!(ratings.restarts, 2);

    let reviews = state
        .inventory
        .services
        .iter()
        .find(|s| s.name == "reviews")
        .unwrap();
    assert_eq!(reviews.ports.len(), 1);
    assert_eq!(
        (reviews.ports[0].name.as_deref(), reviews.ports[0].port),
        (Some("http"), 9080)
    );
    assert_eq!(reviews.ports[0].target_port, "9080");
    assert_eq!(
        reviews.selector.get("app").map(String::as_str),
        Some("reviews")
    );
    let workload = state
        .inventory
        .workload("Kubernetes", "bookinfo", "reviews-v3")
        .unwrap();
    assert!(
        reviews.selects(&workload.labels),
        "reviews selects reviews-v3"
    );
    task.abort();
}

#[tokio::test]
async fn endpoints_say_which_pods_are_ready_and_follow_the_slices_as_they_change() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "a synced inventory", is_ok).await;
    let service = |state: &InventoryState| {
        state
            .inventory
            .services
            .iter()
            .find(|s| s.name == "reviews")
            .cloned()
            .unwrap()
    };
    let reviews = service(&state);
    let endpoints: Vec<_> = state.inventory.endpoints_of(&reviews).cloned().collect();
    assert_eq!(endpoints.len(), 3, "{endpoints:?}");
    assert!(endpoints.iter().all(|e| e.ready));
    let v2_pod = pod_name("reviews-v2", 3);
    assert!(
        endpoints
            .iter()
            .any(|e| e.pod.as_deref() == Some(v2_pod.as_str())
                && e.addresses == [pod_ip(3)]
                && e.node.as_deref() == Some("kind-control-plane")),
        "{endpoints:?}"
    );

    // reviews-v2 fails its readiness probe: the controller rewrites the slice.
    let targets: Vec<EndpointTarget> = [(2, "v1"), (3, "v2"), (4, "v3")]
        .into_iter()
        .map(|(index, version)| EndpointTarget {
            pod: pod_name(&format!("reviews-{version}"), index),
            ip: pod_ip(index),
            ready: version != "v2",
        })
        .collect();
    emulator.replace(endpoint_slice("bookinfo", "reviews", 9080, &targets));
    let state = wait_for(&mut feed, "reviews-v2 not ready", |s| {
        let reviews = service(s);
        let not_ready = s
            .inventory
            .endpoints_of(&reviews)
            .any(|e| !e.ready && e.pod.as_deref() == Some(v2_pod.as_str()));
        not_ready
    })
    .await;
    let reviews = service(&state);
    let ready = state
        .inventory
        .endpoints_of(&reviews)
        .filter(|e| e.ready)
        .count();
    assert_eq!(ready, 2);
    task.abort();
}

#[tokio::test]
async fn the_spec_of_istio_config_is_kept_without_escape_sequences() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    emulator.create(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "ratings", "namespace": "bookinfo"},
        "spec": {
            "hosts": ["ratings"],
            "http": [{"name": "to-v1\u{1b}[2J", "route": [{"destination": {"host": "ratings", "subset": "v1"}, "weight": 100}]}]
        }
    }));
    let (mut feed, task) = watch_inventory(emulator.client(), all_namespaces());
    let state = wait_for(&mut feed, "the ratings VirtualService", |s| {
        s.inventory.istio_config.iter().any(|c| c.name == "ratings")
    })
    .await;
    let ratings = state
        .inventory
        .istio_config
        .iter()
        .find(|c| c.name == "ratings" && c.kind == IstioKind::VirtualService)
        .unwrap();
    let spec = ratings.spec.as_deref().expect("the spec is kept");
    assert_eq!(spec.pointer("/http/0/name"), Some(&json!("to-v1")));
    assert_eq!(spec.pointer("/http/0/route/0/weight"), Some(&json!(100)));
    task.abort();
}
