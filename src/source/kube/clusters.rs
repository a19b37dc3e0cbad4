//! Several clusters watched at once: one inventory watcher per cluster, their feeds merged
//! into one inventory whose health names the cluster that fails, while the others' objects
//! keep arriving.

use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::watch::{watch_inventory, InventorySettings};
use crate::mesh::Inventory;
use crate::source::{InventoryFeed, InventoryHealth, InventoryState};

/// Every cluster's own feed, and the one that merges them.
#[derive(Debug, Clone)]
pub struct ClusterFeeds {
    /// Each cluster's name and feed, in the order they were given.
    pub clusters: Vec<(String, InventoryFeed)>,
    /// All the clusters as one inventory; its health names each failing cluster.
    pub merged: InventoryFeed,
}

/// Starts a watcher per `(client, settings)` and a task merging what they publish. Must be
/// called within a tokio runtime; aborting the returned task stops every watcher.
pub fn watch_clusters(
    clusters: Vec<(kube::Client, InventorySettings)>,
) -> (ClusterFeeds, JoinHandle<()>) {
    let mut feeds = Vec::with_capacity(clusters.len());
    let mut watchers = Vec::with_capacity(clusters.len());
    for (client, settings) in clusters {
        let cluster = settings.cluster.clone();
        let (feed, task) = watch_inventory(client, settings);
        feeds.push((cluster, feed));
        watchers.push(task);
    }
    let (sender, merged) = watch::channel(merged_state(
        feeds
            .iter()
            .map(|(name, feed)| (name.as_str(), feed.borrow().clone())),
    ));
    let task = tokio::spawn(merge(feeds.clone(), AbortOnDrop(watchers), sender));
    let feeds = ClusterFeeds {
        clusters: feeds,
        merged,
    };
    (feeds, task)
}

/// The clusters' states as one: every cluster's objects (each tagged with its cluster),
/// failing when any cluster fails with a message per failing cluster, syncing while any
/// cluster is. One cluster's state is passed through unchanged.
pub fn merged_state<S: std::borrow::Borrow<InventoryState>>(
    parts: impl IntoIterator<Item = (impl AsRef<str>, S)>,
) -> InventoryState {
    let parts: Vec<(_, S)> = parts.into_iter().collect();
    if let [(_, only)] = parts.as_slice() {
        return only.borrow().clone();
    }
    let inventory = Inventory::merged(parts.iter().map(|(_, s)| &s.borrow().inventory));
    let failures: Vec<String> = parts
        .iter()
        .filter_map(|(name, state)| match &state.borrow().health {
            InventoryHealth::Failing(message) => {
                Some(format!("cluster {}: {message}", name.as_ref()))
            }
            _ => None,
        })
        .collect();
    let health = if !failures.is_empty() {
        InventoryHealth::Failing(failures.join("; "))
    } else if parts
        .iter()
        .any(|(_, s)| s.borrow().health == InventoryHealth::Syncing)
    {
        InventoryHealth::Syncing
    } else if parts.is_empty() {
        InventoryHealth::NotUsed
    } else {
        InventoryHealth::Ok
    };
    // The merged inventory is as old as its stalest failing cluster's.
    let stale_since_unix_s = parts
        .iter()
        .filter_map(|(_, s)| s.borrow().stale_since_unix_s)
        .reduce(f64::min);
    InventoryState {
        inventory,
        health,
        stale_since_unix_s,
    }
}

/// Aborts the clusters' watchers when the merging task ends or is aborted.
struct AbortOnDrop(Vec<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Publishes the merged state whenever a cluster's feed changes, until nobody reads the
/// merged feed or every watcher is gone.
async fn merge(
    feeds: Vec<(String, InventoryFeed)>,
    _watchers: AbortOnDrop,
    merged: watch::Sender<InventoryState>,
) {
    let (changes, mut changed) = mpsc::unbounded_channel::<()>();
    let mut forwarders = JoinSet::new();
    for (_, feed) in &feeds {
        let mut feed = feed.clone();
        let changes = changes.clone();
        forwarders.spawn(async move {
            while feed.changed().await.is_ok() {
                if changes.send(()).is_err() {
                    break;
                }
            }
        });
    }
    drop(changes);
    loop {
        tokio::select! {
            () = merged.closed() => break,
            change = changed.recv() => {
                if change.is_none() {
                    break;
                }
                // Several clusters may have changed at once: one merge for all of them.
                while changed.try_recv().is_ok() {}
                let states: Vec<_> = feeds
                    .iter()
                    .map(|(name, feed)| (name.as_str(), feed.borrow()))
                    .collect();
                let state = merged_state(states.iter().map(|(name, state)| (*name, &**state)));
                drop(states);
                merged.send_if_modified(|current| {
                    let differs = *current != state;
                    if differs {
                        *current = state;
                    }
                    differs
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::inventory::{NamespaceInfo, NamespaceRef};

    fn state(cluster: &str, health: InventoryHealth) -> InventoryState {
        InventoryState {
            inventory: Inventory {
                namespaces: vec![NamespaceInfo {
                    cluster: cluster.into(),
                    name: "bookinfo".into(),
                    injection_enabled: true,
                }],
                ..Inventory::default()
            },
            health,
            stale_since_unix_s: None,
        }
    }

    #[test]
    fn one_cluster_is_passed_through_unchanged() {
        let down = state("east", InventoryHealth::Failing("pods: refused".into()));
        assert_eq!(merged_state([("east", &down)]), down);
    }

    #[test]
    fn the_merged_health_names_each_failing_cluster_and_keeps_every_clusters_objects() {
        let east = state("east", InventoryHealth::Ok);
        let west = state("west", InventoryHealth::Failing("pods: refused".into()));
        let south = state("south", InventoryHealth::Syncing);
        let merged = merged_state([("east", &east), ("west", &west), ("south", &south)]);
        assert_eq!(
            merged.health,
            InventoryHealth::Failing("cluster west: pods: refused".into())
        );
        let namespaces: Vec<NamespaceRef> = merged
            .inventory
            .namespaces
            .iter()
            .map(|n| NamespaceRef::new(&n.cluster, &n.name))
            .collect();
        assert_eq!(
            namespaces,
            vec![
                NamespaceRef::new("east", "bookinfo"),
                NamespaceRef::new("west", "bookinfo"),
                NamespaceRef::new("south", "bookinfo"),
            ]
        );
    }

    #[test]
    fn the_merged_health_is_syncing_until_every_cluster_has_listed() {
        let cases = [
            ("all listed", InventoryHealth::Ok, InventoryHealth::Ok),
            (
                "one syncing",
                InventoryHealth::Syncing,
                InventoryHealth::Syncing,
            ),
        ];
        for (name, west, expected) in cases {
            let merged = merged_state([
                ("east", state("east", InventoryHealth::Ok)),
                ("west", state("west", west)),
            ]);
            assert_eq!(merged.health, expected, "{name}");
        }
    }
}
