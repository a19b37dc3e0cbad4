//! Two clusters watched at once through the real `kube::Client`, each against its own API
//! emulator holding the same Bookinfo names: one merged inventory that keeps them apart,
//! and one cluster's API going down without taking the other's objects with it.

use std::time::Duration;

use meshtui::source::kube::{watch_clusters, InventorySettings};
use meshtui::source::{InventoryFeed, InventoryHealth, InventoryState};

use crate::support::kube_emulator::KubeEmulator;
use crate::support::two_clusters::{east_objects, west_objects};

/// Only guards against a hang: every wait ends as soon as the feed shows what it waits for.
const HANG_GUARD: Duration = Duration::from_secs(60);

async fn wait_for(
    feed: &mut InventoryFeed,
    what: &str,
    holds: impl Fn(&InventoryState) -> bool,
) -> InventoryState {
    let waited = tokio::time::timeout(HANG_GUARD, feed.wait_for(|s| holds(s)))
        .await
        .map(|answer| answer.map(|state| state.clone()));
    match waited {
        Ok(Ok(state)) => state,
        Ok(Err(_)) => panic!("the merging task ended while waiting for {what}"),
        Err(_) => panic!(
            "no merged inventory showed {what}; the last was {:#?}",
            *feed.borrow()
        ),
    }
}

fn settings(cluster: &str) -> InventorySettings {
    InventorySettings {
        namespaces: Vec::new(),
        cluster: cluster.into(),
    }
}

fn sidecar(state: &InventoryState, cluster: &str, workload: &str) -> Option<bool> {
    state
        .inventory
        .workload(cluster, "bookinfo", workload)
        .map(|w| w.sidecar_injected)
}

#[tokio::test]
async fn two_clusters_with_the_same_names_merge_into_one_inventory_that_keeps_them_apart() {
    let east = KubeEmulator::with_objects(east_objects()).await;
    let west = KubeEmulator::with_objects(west_objects()).await;
    // West's reviews-v1 runs without a sidecar; east's keeps its own.
    let (feeds, task) = watch_clusters(vec![
        (east.client(), settings("east")),
        (west.client(), settings("west")),
    ]);
    let mut merged = feeds.merged.clone();
    let both = wait_for(&mut merged, "both clusters listed", |s| {
        s.health == InventoryHealth::Ok
    })
    .await;
    let clusters: Vec<&str> = both.inventory.clusters().into_iter().collect();
    assert_eq!(clusters, ["east", "west"]);
    assert_eq!(sidecar(&both, "east", "reviews-v1"), Some(true));
    assert_eq!(sidecar(&both, "west", "reviews-v1"), Some(false));
    assert!(both
        .inventory
        .workload("east", "istio-system", "edge")
        .is_some_and(|w| w.gateway.is_some()));
    assert!(both
        .inventory
        .workload("west", "istio-system", "edge")
        .is_none());
    let productpages = both
        .inventory
        .workloads
        .iter()
        .filter(|w| w.name == "productpage-v1")
        .count();
    assert_eq!(productpages, 2, "one per cluster");
    task.abort();
}

#[tokio::test]
async fn one_clusters_api_going_down_is_named_while_the_other_cluster_keeps_updating() {
    let east = KubeEmulator::with_objects(east_objects()).await;
    let west = KubeEmulator::with_objects(west_objects()).await;
    let (feeds, task) = watch_clusters(vec![
        (east.client(), settings("east")),
        (west.client(), settings("west")),
    ]);
    let mut merged = feeds.merged.clone();
    let both = wait_for(&mut merged, "both clusters listed", |s| {
        s.health == InventoryHealth::Ok
    })
    .await;

    west.go_down();
    let down = wait_for(&mut merged, "west failing", |s| {
        matches!(s.health, InventoryHealth::Failing(_))
    })
    .await;
    let InventoryHealth::Failing(message) = &down.health else {
        unreachable!()
    };
    assert!(
        message.starts_with("cluster west: ") && message.contains("cannot reach the API server"),
        "{message}"
    );
    assert!(!message.contains("cluster east"), "{message}");
    // West's last inventory stays, east's keeps arriving.
    assert_eq!(down.inventory, both.inventory);
    let mut namespace = east_objects()
        .into_iter()
        .find(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == "legacy")
        .unwrap();
    namespace["metadata"]["name"] = "added-in-east".into();
    east.create(namespace);
    wait_for(
        &mut merged,
        "east's new namespace while west is down",
        |s| {
            s.inventory
                .namespaces
                .iter()
                .any(|n| n.cluster == "east" && n.name == "added-in-east")
        },
    )
    .await;

    west.come_back().await;
    wait_for(&mut merged, "both healthy again", |s| {
        s.health == InventoryHealth::Ok
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn aborting_the_merge_stops_every_clusters_watchers() {
    let east = KubeEmulator::with_objects(east_objects()).await;
    let west = KubeEmulator::with_objects(west_objects()).await;
    let (feeds, task) = watch_clusters(vec![
        (east.client(), settings("east")),
        (west.client(), settings("west")),
    ]);
    let mut merged = feeds.merged.clone();
    wait_for(&mut merged, "both clusters listed", |s| {
        s.health == InventoryHealth::Ok
    })
    .await;
    task.abort();
    for (cluster, mut feed) in feeds.clusters {
        let ended =
            tokio::time::timeout(HANG_GUARD, async { while feed.changed().await.is_ok() {} }).await;
        assert!(ended.is_ok(), "cluster {cluster}'s watcher still runs");
    }
}
