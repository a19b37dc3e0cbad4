//! One kube-runtime reflector per kind and watched namespace, and the task that turns
//! their stores into `InventoryState`s: coalesced, health and inaccessible namespaces
//! included, published on a watch channel.

use std::fmt::Debug;
use std::future::poll_fn;
use std::hash::Hash;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::NamespaceResourceScope;
use kube::api::Api;
use kube::runtime::reflector::{store::Writer, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep_until, Instant};

use super::assemble::{Scope, Stores};
use super::istio::{api_resource, ISTIO_KINDS, ISTIO_VERSIONS};
use super::status::{ObjectKind, Outcome, Statuses, WatcherId};
use crate::mesh::sanitize::sanitize;
use crate::source::{InventoryFeed, InventoryHealth, InventoryState};

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventorySettings {
    /// The namespaces to watch, each with its own watchers so that one the user may not
    /// read leaves the others working. Empty: all namespaces, one watcher per kind.
    pub namespaces: Vec<String>,
    /// The cluster's name in the inventory (as the `*_cluster` metric labels name it).
    pub cluster: String,
}

/// A burst of changes (a rollout, a re-list) becomes one inventory at most this often.
const COALESCE: Duration = Duration::from_millis(200);
/// While a watcher fails, how often to ask the API server whether it answers again.
const PROBE_FIRST_DELAY: Duration = Duration::from_millis(500);
const PROBE_MAX_DELAY: Duration = Duration::from_secs(10);
/// After the API server refused a watch with 403, how long before listing again (the
/// list says when access is back; a refused watch that later succeeds says nothing).
const RELIST_FIRST_DELAY: Duration = Duration::from_secs(1);
const RELIST_MAX_DELAY: Duration = Duration::from_secs(30);
/// Holds a full copy of the object: the inventory never reads it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

enum Report {
    Watcher(WatcherId, Outcome),
    /// Whether the API server answered a probe.
    Probe(bool),
}

/// Starts watching the cluster. The feed says `Syncing` until every initial list is in,
/// then carries a fresh inventory whenever something changes; when the API server fails
/// it says `Failing` and keeps the last inventory. Must be called within a tokio runtime;
/// the task ends when every receiver of the feed is gone, and aborting it stops the
/// watchers.
pub fn watch_inventory(
    client: kube::Client,
    settings: InventorySettings,
) -> (InventoryFeed, JoinHandle<()>) {
    let initial = InventoryState {
        health: InventoryHealth::Syncing,
        ..InventoryState::default()
    };
    let (feed, receiver) = watch::channel(initial);
    let task = tokio::spawn(run(client, settings, feed));
    (receiver, task)
}

async fn run(
    client: kube::Client,
    settings: InventorySettings,
    feed: watch::Sender<InventoryState>,
) {
    let (reports_tx, reports) = mpsc::unbounded_channel();
    let mut watchers = Watchers {
        client: client.clone(),
        tasks: JoinSet::new(),
        stores: Stores::default(),
        ids: Vec::new(),
        reports: reports_tx.clone(),
    };
    watchers.start_all(&settings.namespaces);
    let Watchers {
        tasks, stores, ids, ..
    } = watchers;
    let publisher = Publisher {
        client,
        settings,
        stores,
        statuses: Statuses::new(ids),
        feed,
        reports,
        probe_reports: reports_tx,
        stale_since_unix_s: None,
    };
    publisher.run().await;
    // Dropping the set aborts every watcher.
    drop(tasks);
}

struct Watchers {
    client: kube::Client,
    tasks: JoinSet<()>,
    stores: Stores,
    ids: Vec<WatcherId>,
    reports: mpsc::UnboundedSender<Report>,
}

impl Watchers {
    fn start_all(&mut self, namespaces: &[String]) {
        // Namespaces are cluster-wide objects: one watcher either way.
        let api = Api::<Namespace>::all(self.client.clone());
        let store = self.start(vec![api], Writer::default(), ObjectKind::Namespace, None);
        self.stores.namespaces.push(store);

        let scopes: Vec<Option<&str>> = if namespaces.is_empty() {
            vec![None]
        } else {
            namespaces.iter().map(|n| Some(n.as_str())).collect()
        };
        for scope in scopes {
            let store = self.start_typed(ObjectKind::Service, scope);
            self.stores.services.push(store);
            let store = self.start_typed(ObjectKind::Deployment, scope);
            self.stores.deployments.push(store);
            let store = self.start_typed(ObjectKind::StatefulSet, scope);
            self.stores.stateful_sets.push(store);
            let store = self.start_typed(ObjectKind::DaemonSet, scope);
            self.stores.daemon_sets.push(store);
            let store = self.start_typed(ObjectKind::Pod, scope);
            self.stores.pods.push(store);
            let store = self.start_typed(ObjectKind::EndpointSlice, scope);
            self.stores.endpoint_slices.push(store);
            for kind in ISTIO_KINDS {
                // One writer whichever version answers: its key is the `v1` resource.
                let writer = Writer::new(api_resource(kind, ISTIO_VERSIONS[0]));
                let apis = ISTIO_VERSIONS
                    .iter()
                    .map(|version| {
                        let resource = api_resource(kind, version);
                        match scope {
                            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
                            None => Api::all_with(self.client.clone(), &resource),
                        }
                    })
                    .collect();
                let store = self.start(apis, writer, ObjectKind::Istio(kind), scope);
                self.stores.istio.push((kind, store));
            }
        }
    }

    fn start_typed<K>(&mut self, kind: ObjectKind, scope: Option<&str>) -> Store<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K: Clone + Debug + DeserializeOwned + Send + Sync + 'static,
        K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
    {
        let api = match scope {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        self.start(vec![api], Writer::default(), kind, scope)
    }

    /// `apis`: where the kind may be served, tried in order until one is.
    fn start<K>(
        &mut self,
        apis: Vec<Api<K>>,
        writer: Writer<K>,
        kind: ObjectKind,
        scope: Option<&str>,
    ) -> Store<K>
    where
        K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
        K::DynamicType: Eq + Hash + Clone + Send + Sync,
    {
        let id = WatcherId {
            kind,
            namespace: scope.map(str::to_owned),
        };
        let store = writer.as_reader();
        self.ids.push(id.clone());
        self.tasks
            .spawn(reflect(apis, writer, id, self.reports.clone()));
        store
    }
}

/// Keeps what the inventory reads: managed fields and the last applied configuration
/// can be most of an object's size, multiplied by every pod in the cluster.
pub fn strip_bookkeeping<K: ResourceExt>(object: &mut K) {
    object.managed_fields_mut().clear();
    object.annotations_mut().remove(LAST_APPLIED);
}

/// Runs one watcher into `writer` until the publisher is gone, reporting what it saw.
/// Two failures need more than the watcher's own retries: a kind not served at the first
/// place in `apis` is looked for at the next; and a watch refused with 403 (access taken
/// away while watching) starts over with a list, since a later watch that succeeds would
/// not say that access is back.
async fn reflect<K>(
    apis: Vec<Api<K>>,
    mut writer: Writer<K>,
    id: WatcherId,
    reports: mpsc::UnboundedSender<Report>,
) where
    K: Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    let mut place = 0;
    let mut relist_delay = RELIST_FIRST_DELAY;
    while let Some(api) = apis.get(place) {
        let events = watcher::watcher(api.clone(), watcher::Config::default())
            .modify(strip_bookkeeping)
            .default_backoff();
        let mut stream = std::pin::pin!(events);
        let restart = loop {
            let Some(item) = next(&mut stream).await else {
                return;
            };
            let outcome = match item {
                Ok(event) => {
                    writer.apply_watcher_event(&event);
                    match event {
                        Event::InitDone => Outcome::Synced,
                        Event::Apply(_) | Event::Delete(_) => {
                            relist_delay = RELIST_FIRST_DELAY;
                            Outcome::Changed
                        }
                        Event::Init | Event::InitApply(_) => continue,
                    }
                }
                Err(error) => match outcome_of(&error) {
                    Some(Outcome::NotServed) if place + 1 < apis.len() => break Restart::NextPlace,
                    Some(Outcome::Forbidden) if refused_watch(&error) => {
                        if reports
                            .send(Report::Watcher(id.clone(), Outcome::Forbidden))
                            .is_err()
                        {
                            return;
                        }
                        break Restart::Relist;
                    }
                    Some(outcome) => outcome,
                    None => continue,
                },
            };
            if reports.send(Report::Watcher(id.clone(), outcome)).is_err() {
                return;
            }
        };
        match restart {
            Restart::NextPlace => place += 1,
            Restart::Relist => {
                tokio::time::sleep(relist_delay).await;
                relist_delay = (relist_delay * 2).min(RELIST_MAX_DELAY);
            }
        }
    }
}

enum Restart {
    /// The kind is not served here: look at the next place.
    NextPlace,
    /// Start again with a list, after a pause.
    Relist,
}

/// Whether the error is a watch (not a list) the API server refused.
fn refused_watch(error: &watcher::Error) -> bool {
    matches!(
        error,
        watcher::Error::WatchStartFailed(_)
            | watcher::Error::WatchFailed(_)
            | watcher::Error::WatchError(_)
    )
}

/// The next item of a stream. kube's `WatchStreamExt` extends `Stream`, which lets this
/// poll it without a direct dependency on the futures crate.
async fn next<S: WatchStreamExt>(stream: &mut Pin<&mut S>) -> Option<S::Item> {
    poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

/// How a watcher error shows; `None` for errors the watcher recovers from by itself.
fn outcome_of(error: &watcher::Error) -> Option<Outcome> {
    let client_error = match error {
        watcher::Error::WatchError(status) => {
            return outcome_of_status(status.code, &status.message)
        }
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => e,
        watcher::Error::NoResourceVersion => {
            return Some(Outcome::Failed(
                "the API server sent an object without a resourceVersion".into(),
            ))
        }
    };
    match (error, client_error) {
        (_, kube::Error::Api(response)) => outcome_of_status(response.code, &response.message),
        // kube reads a watch's answer as events whatever its status, so a refusal that is
        // not a JSON Status (priority and fairness answers 429 in plain text) shows up
        // as a line that is not an event.
        (watcher::Error::WatchFailed(_), kube::Error::SerdeError(detail)) => {
            Some(Outcome::Failed(format!(
                "the API server answered a watch with something other than events (it may be throttling requests): {}; retrying",
                sanitize(&detail.to_string())
            )))
        }
        (_, other) => Some(Outcome::Failed(sanitize(&describe(other)))),
    }
}

fn outcome_of_status(code: u16, message: &str) -> Option<Outcome> {
    match code {
        // The resourceVersion expired: the watcher lists everything again.
        410 => None,
        403 => Some(Outcome::Forbidden),
        404 => Some(Outcome::NotServed),
        401 => Some(Outcome::Failed(format!(
            "unauthorized (credentials expired or rejected): {}",
            sanitize(message)
        ))),
        // Priority and fairness answers in plain text, which says no more than the code.
        429 => Some(Outcome::Failed(
            "the API server is throttling requests (429 Too Many Requests); retrying".into(),
        )),
        500..=599 => Some(Outcome::Failed(format!(
            "the API server failed ({code}): {}; retrying",
            sanitize(message)
        ))),
        _ => Some(Outcome::Failed(format!("{code}: {}", sanitize(message)))),
    }
}

/// A client error as a user can act on it: the innermost cause says what happened
/// ("Connection refused") where the outer ones only say where.
pub(super) fn describe(error: &kube::Error) -> String {
    let mut root: Option<&dyn std::error::Error> = None;
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        root = Some(next);
        cause = next.source();
    }
    let root = root
        .map(ToString::to_string)
        .unwrap_or_else(|| error.to_string());
    match error {
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            format!("cannot reach the API server: {root}")
        }
        _ => format!("{error}: {root}"),
    }
}

fn now_unix_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

struct Publisher {
    client: kube::Client,
    settings: InventorySettings,
    stores: Stores,
    statuses: Statuses,
    feed: watch::Sender<InventoryState>,
    reports: mpsc::UnboundedReceiver<Report>,
    probe_reports: mpsc::UnboundedSender<Report>,
    /// Since when the inventory has been failing, and so not kept up to date.
    stale_since_unix_s: Option<f64>,
}

impl Publisher {
    async fn run(mut self) {
        let mut probes = JoinSet::new();
        let mut dirty = false;
        let mut last_published: Option<Instant> = None;
        let mut probe_delay = PROBE_FIRST_DELAY;
        let mut next_probe = Instant::now();
        loop {
            let publish_at = last_published.map_or_else(Instant::now, |at| at + COALESCE);
            let probe_due = self.statuses.any_failing() && probes.is_empty();
            tokio::select! {
                () = self.feed.closed() => break,
                report = self.reports.recv() => {
                    let Some(report) = report else { break };
                    dirty = true;
                    match report {
                        Report::Watcher(id, outcome) => self.statuses.record(&id, outcome),
                        Report::Probe(answered) => {
                            while probes.try_join_next().is_some() {}
                            if answered {
                                self.statuses.clear_failures();
                                probe_delay = PROBE_FIRST_DELAY;
                            } else {
                                probe_delay = (probe_delay * 2).min(PROBE_MAX_DELAY);
                            }
                            next_probe = Instant::now() + probe_delay;
                        }
                    }
                }
                () = sleep_until(publish_at), if dirty => {
                    self.publish();
                    dirty = false;
                    last_published = Some(Instant::now());
                }
                () = sleep_until(next_probe), if probe_due => {
                    let client = self.client.clone();
                    let reports = self.probe_reports.clone();
                    probes.spawn(async move {
                        let answered = client.apiserver_version().await.is_ok();
                        // The publisher may be gone already; nothing to tell then.
                        let _ = reports.send(Report::Probe(answered));
                    });
                }
            }
        }
    }

    fn publish(&mut self) {
        let scope = Scope {
            cluster: &self.settings.cluster,
            namespaces: &self.settings.namespaces,
        };
        let health = self.statuses.health(self.settings.namespaces.is_empty());
        self.stale_since_unix_s = match health {
            InventoryHealth::Failing(_) => Some(self.stale_since_unix_s.unwrap_or_else(now_unix_s)),
            _ => None,
        };
        let state = InventoryState {
            inventory: self.stores.inventory(&scope, &self.statuses),
            health,
            stale_since_unix_s: self.stale_since_unix_s,
        };
        self.feed.send_if_modified(|current| {
            let changed = *current != state;
            if changed {
                *current = state;
            }
            changed
        });
    }
}
