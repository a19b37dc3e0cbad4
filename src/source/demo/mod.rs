//! The embedded demo mesh: a simulated Istio mesh whose traffic follows the routing rules applied to it. Imports `mesh` only.
//!
//! [`DemoMesh`] is the pure simulator (no tokio, no wall clock); [`DemoSource`] runs it on a
//! timer as a [`MeshSource`], and serves its counters on `/metrics` when asked to. Both
//! read their VirtualServices and DestinationRules from a [`RuleStore`], which the demo's
//! [`RuleWriter`] ([`DemoWriter`]) writes: [`DemoSource::writer`] gives one.

mod access_log;
mod dryrun;
mod exporter;
mod fate;
mod lane_flows;
mod lane_plan;
mod latency;
mod matching;
mod model;
mod outlier;
mod plans;
mod requests;
mod route_plan;
mod routing;
mod series;
mod simulate;
mod store;
mod synthetic;
mod telemetry;
mod topology;
mod window;
mod writer;

#[cfg(test)]
mod operations_tests;
#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod writer_tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

use super::logs::LogFollower;
use super::operations::{
    OperationsError, OperationsFuture, OperationsQuery, OperationsReader, OperationsReport,
};
use super::write::RuleWriter;
use super::{
    MeshSnapshot, MeshSource, SourceCommand, SourceDescription, SourceEvent, SourceHealth,
    SourceTask,
};

pub use access_log::{proxy_log_lines, rfc3339_millis, DemoLogFollower, TrafficFeed};
pub use exporter::{
    render_metrics, ExporterError, Exposition, MetricsListener, EXPOSITION_CONTENT_TYPE,
};
pub use latency::{LatencyProfile, DURATION_BOUNDS_MS};
pub use model::{Backend, ErrorOutcome, Operation, Route, RouteLoad, TcpExchange};
pub use requests::{request_classes, RequestClass};
pub use series::SeriesCounters;
pub use simulate::DemoMesh;
pub use store::{ConfigStore, ObjectKey, RuleStore};
pub use writer::DemoWriter;

/// Simulated time of the first snapshot: a fixed instant, so runs are reproducible.
pub const DEMO_START_UNIX_S: f64 = 1_795_557_600.0;

#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Seeds all randomness: the same seed gives the same snapshots.
    pub seed: u64,
    /// `Some(n)`: a generated mesh of about `n` services instead of Bookinfo and the shop.
    pub services: Option<usize>,
    /// Simulated time between steps (and, in [`DemoSource`], real time between snapshots).
    pub tick: Duration,
    /// The window rates are computed over, like PromQL's `rate(...[1m])`.
    pub window: Duration,
    /// Simulated Unix time of the first snapshot.
    pub start_unix_s: f64,
    /// Stamp each snapshot [`DemoSource`] sends with the wall clock rather than simulated
    /// time, so that its age stays true after a pause or a step slower than the tick.
    pub stamp_with_wall_clock: bool,
    /// Serve the mesh's counters on `GET /metrics` at this address, in Prometheus' text
    /// format, as the mesh's Istio proxies would expose them.
    pub serve_metrics: Option<SocketAddr>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 1,
            services: None,
            tick: Duration::from_secs(2),
            window: Duration::from_secs(60),
            start_unix_s: DEMO_START_UNIX_S,
            stamp_with_wall_clock: false,
            serve_metrics: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoError {
    #[error("the demo mesh has no service {0}")]
    UnknownService(String),
    #[error("service {service} has no version or workload called {backend}")]
    UnknownBackend { service: String, backend: String },
    #[error("the weights for {0} add up to zero: no version would get traffic")]
    ZeroWeights(String),
}

/// The demo mesh as a [`MeshSource`]: a snapshot at once, then one per tick.
#[derive(Debug, Clone)]
pub struct DemoSource {
    options: DemoOptions,
    metrics: Option<MetricsListener>,
    /// The routing rules the mesh follows, shared with the writers it gives.
    rules: RuleStore,
    /// Where snapshots go for the access logs, while one is followed.
    traffic: TrafficFeed,
    /// Questions about operations, answered by the running mesh between steps.
    asks: mpsc::Sender<OperationsAsk>,
    /// Taken by the running mesh.
    asked: Arc<Mutex<Option<mpsc::Receiver<OperationsAsk>>>>,
}

/// A question about a workload's operations, and where its answer goes.
type OperationsAsk = (OperationsQuery, oneshot::Sender<OperationsReport>);

/// Questions a user can have open at once; more wait.
const ASKS: usize = 4;

/// The demo's [`OperationsReader`]: asks the running mesh, which answers from its window.
#[derive(Debug, Clone)]
pub struct DemoOperations {
    asks: mpsc::Sender<OperationsAsk>,
}

impl OperationsReader for DemoOperations {
    fn read(&self, query: OperationsQuery) -> OperationsFuture {
        let asks = self.asks.clone();
        Box::pin(async move {
            let stopped = || OperationsError::Source("the demo mesh is not running".into());
            let (reply, answer) = oneshot::channel();
            asks.send((query, reply)).await.map_err(|_| stopped())?;
            answer.await.map_err(|_| stopped())
        })
    }
}

impl DemoMesh {
    /// The answer to `query` now (the demo ignores `at_unix_s`: it has no history).
    pub fn operations_report(&self, query: OperationsQuery) -> OperationsReport {
        OperationsReport {
            outcome: self.inbound_operations(&query.workload, &query.label),
            query,
            taken_at_unix_s: self.now_unix_s(),
        }
    }
}

impl DemoSource {
    /// A source that binds `options.serve_metrics`, if any, when it starts running; a failure
    /// then becomes a status event. [`DemoSource::bind`] reports it at once instead.
    pub fn new(options: DemoOptions) -> Self {
        let (asks, asked) = mpsc::channel(ASKS);
        DemoSource {
            rules: RuleStore::new(options.seed, options.start_unix_s),
            options,
            metrics: None,
            asks,
            asked: Arc::new(Mutex::new(Some(asked))),
            traffic: Arc::new(watch::channel(None).0),
        }
    }

    /// A source whose `/metrics` socket is bound now: a port in use is an error here, and
    /// [`DemoSource::metrics_addr`] tells the port chosen for port 0.
    pub fn bind(options: DemoOptions) -> Result<Self, ExporterError> {
        let metrics = options
            .serve_metrics
            .map(MetricsListener::bind)
            .transpose()?;
        Ok(DemoSource {
            metrics,
            ..DemoSource::new(options)
        })
    }

    /// The reader of the operations of this source's mesh while it runs.
    pub fn operations_reader(&self) -> Box<dyn OperationsReader> {
        Box::new(DemoOperations {
            asks: self.asks.clone(),
        })
    }

    /// The writer of the rules this source's mesh follows: what it applies shows in the
    /// next snapshot. `read_only` (`--readonly`) refuses every write. Run it beside the
    /// source; either may start first.
    pub fn writer(&self, read_only: bool) -> Box<dyn RuleWriter> {
        Box::new(DemoWriter::new(self.rules.clone(), read_only))
    }

    /// The follower of this mesh's pods' access logs: their lines come from the traffic
    /// of the snapshots this source sends.
    pub fn log_follower(&self) -> Box<dyn LogFollower> {
        Box::new(DemoLogFollower::new(
            Arc::clone(&self.traffic),
            self.options.seed,
        ))
    }

    /// Where `/metrics` is served, once bound by [`DemoSource::bind`].
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsListener::local_addr)
    }
}

impl MeshSource for DemoSource {
    fn describe(&self) -> SourceDescription {
        SourceDescription {
            label: "DEMO".into(),
            is_demo: true,
            window: self.options.window,
            refresh_interval: self.options.tick,
        }
    }

    fn run(
        self: Box<Self>,
        events: mpsc::Sender<SourceEvent>,
        commands: mpsc::Receiver<SourceCommand>,
    ) -> SourceTask {
        let asked = self
            .asked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let link = Link {
            events,
            stamp: Stamp {
                wall_clock: self.options.stamp_with_wall_clock,
            },
            traffic: self.traffic,
        };
        Box::pin(run_demo(
            self.options,
            self.metrics,
            self.rules,
            link,
            commands,
            asked,
        ))
    }
}

/// Runs `work` on the blocking pool: a generated mesh of thousands of workloads takes long
/// enough to stall the UI's runtime if it ran here.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

/// Starts `/metrics` when asked for; returns where to publish expositions.
fn start_exporter(
    options: &DemoOptions,
    bound: Option<MetricsListener>,
) -> Result<Option<watch::Sender<Exposition>>, ExporterError> {
    let listener = match (bound, options.serve_metrics) {
        (Some(listener), _) => listener,
        (None, Some(addr)) => MetricsListener::bind(addr)?,
        (None, None) => return Ok(None),
    };
    let (publisher, latest) = watch::channel(None);
    listener.serve(latest)?;
    Ok(Some(publisher))
}

/// Renders the counters for `/metrics` when someone serves them.
fn exposition(mesh: &DemoMesh, wanted: bool) -> Option<Bytes> {
    wanted.then(|| Bytes::from(render_metrics(mesh)))
}

/// Publishes before the snapshot is sent, so that whoever received a snapshot finds
/// `/metrics` at least as new as it.
fn publish(publisher: Option<&watch::Sender<Exposition>>, exposition: Option<Bytes>) {
    if let (Some(publisher), Some(exposition)) = (publisher, exposition) {
        publisher.send_replace(Some(exposition));
    }
}

/// Where the demo's snapshots go.
struct Link {
    events: mpsc::Sender<SourceEvent>,
    stamp: Stamp,
    traffic: TrafficFeed,
}

/// The next question about operations; never, without a channel.
async fn next_ask(asked: &mut Option<mpsc::Receiver<OperationsAsk>>) -> Option<OperationsAsk> {
    match asked {
        Some(asked) => asked.recv().await,
        None => std::future::pending().await,
    }
}

async fn run_demo(
    options: DemoOptions,
    bound: Option<MetricsListener>,
    rules: RuleStore,
    link: Link,
    mut commands: mpsc::Receiver<SourceCommand>,
    mut asked: Option<mpsc::Receiver<OperationsAsk>>,
) {
    let tick = options.tick.max(Duration::from_millis(1));
    let events = link.events.clone();
    let publisher = match start_exporter(&options, bound) {
        Ok(publisher) => publisher,
        Err(error) => {
            // The mesh still runs and draws; only the endpoint is missing.
            let failure = SourceHealth::Failing(error.to_string());
            let _ = events.send(SourceEvent::Status(failure)).await;
            None
        }
    };
    let exported = publisher.is_some();
    let built = off_runtime(move || {
        let mesh = DemoMesh::with_store(options, rules);
        let snapshot = Taken::from(&mesh, false);
        let text = exposition(&mesh, exported);
        (mesh, snapshot, text)
    })
    .await;
    let Some((mut mesh, first, text)) = built else {
        let failure = SourceHealth::Failing("the demo mesh could not be built".into());
        let _ = events.send(SourceEvent::Status(failure)).await;
        return;
    };
    publish(publisher.as_ref(), text);
    if !send(&link, first).await {
        return;
    }
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
    // After a pause or a slow frame, carry on from now rather than catching up in a burst.
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut paused = false;
    let mut commands_open = true;
    loop {
        tokio::select! {
            _ = interval.tick(), if !paused => {
                let following = link.is_following();
                let stepped = off_runtime(move || {
                    mesh.step();
                    let snapshot = Taken::from(&mesh, following);
                    let text = exposition(&mesh, exported);
                    (mesh, snapshot, text)
                })
                .await;
                let Some((next, snapshot, text)) = stepped else {
                    let failure = SourceHealth::Failing("the demo mesh stopped".into());
                    let _ = events.send(SourceEvent::Status(failure)).await;
                    return;
                };
                mesh = next;
                publish(publisher.as_ref(), text);
                if !send(&link, snapshot).await {
                    return;
                }
            }
            command = commands.recv(), if commands_open => match command {
                Some(SourceCommand::RefreshNow) => {
                    let following = link.is_following();
                    let taken = off_runtime(move || {
                        let snapshot = Taken::from(&mesh, following);
                        (mesh, snapshot)
                    })
                    .await;
                    let Some((same, snapshot)) = taken else {
                        let failure = SourceHealth::Failing("the demo mesh stopped".into());
                        let _ = events.send(SourceEvent::Status(failure)).await;
                        return;
                    };
                    mesh = same;
                    if !send(&link, snapshot).await {
                        return;
                    }
                }
                Some(SourceCommand::SetPaused(pause)) => {
                    if paused && !pause {
                        interval.reset();
                    }
                    paused = pause;
                }
                // Nobody will send commands any more; keep serving snapshots.
                None => commands_open = false,
            },
            ask = next_ask(&mut asked) => match ask {
                // One workload's routes: quick enough to answer between steps.
                Some((query, reply)) => {
                    let mut report = mesh.operations_report(query);
                    if link.stamp.wall_clock {
                        report.taken_at_unix_s = wall_clock_now().unwrap_or(report.taken_at_unix_s);
                    }
                    let _ = reply.send(report);
                }
                None => asked = None,
            },
            () = events.closed() => return,
        }
    }
}

/// Which time a sent snapshot carries.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    wall_clock: bool,
}

/// A snapshot, and while an access log is followed what the proxies saw in it.
struct Taken {
    snapshot: MeshSnapshot,
    proxy_traffic: Option<MeshSnapshot>,
}

impl Taken {
    fn from(mesh: &DemoMesh, following: bool) -> Self {
        Taken {
            snapshot: mesh.snapshot(),
            proxy_traffic: following.then(|| mesh.proxy_traffic()),
        }
    }
}

impl Link {
    fn is_following(&self) -> bool {
        self.traffic.receiver_count() > 0
    }
}

/// Sends a snapshot; `false` once the receiver is gone. While an access log is followed,
/// its follower gets the proxies' traffic (every request's operation, labelled or not).
async fn send(link: &Link, taken: Taken) -> bool {
    let Taken {
        mut snapshot,
        proxy_traffic,
    } = taken;
    let now = link.stamp.wall_clock.then(wall_clock_now).flatten();
    if let Some(now) = now {
        snapshot.taken_at_unix_s = now;
    }
    if link.is_following() {
        let mut traffic = proxy_traffic.unwrap_or_else(|| snapshot.clone());
        if let Some(now) = now {
            traffic.taken_at_unix_s = now;
        }
        link.traffic.send_replace(Some(Arc::new(traffic)));
    }
    link.events
        .send(SourceEvent::Snapshot(Box::new(snapshot)))
        .await
        .is_ok()
}

fn wall_clock_now() -> Option<f64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|now| now.as_secs_f64())
}
