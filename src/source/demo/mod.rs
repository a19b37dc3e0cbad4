//! The embedded demo mesh: a simulated Istio mesh whose traffic follows its routes. Imports `mesh` only.
//!
//! [`DemoMesh`] is the pure simulator (no tokio, no wall clock); [`DemoSource`] runs it on a
//! timer as a [`MeshSource`].

mod latency;
mod model;
mod series;
mod simulate;
mod synthetic;
mod topology;

#[cfg(test)]
mod tests;

use std::time::Duration;

use tokio::sync::mpsc;

use super::{
    MeshSnapshot, MeshSource, SourceCommand, SourceDescription, SourceEvent, SourceHealth,
    SourceTask,
};

pub use latency::{LatencyProfile, DURATION_BOUNDS_MS};
pub use model::{Backend, ErrorOutcome, Operation, Route, RouteLoad, TcpExchange};
pub use series::SeriesCounters;
pub use simulate::DemoMesh;

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
}

impl DemoSource {
    pub fn new(options: DemoOptions) -> Self {
        DemoSource { options }
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
        Box::pin(run_demo(self.options, events, commands))
    }
}

/// Runs `work` on the blocking pool: a generated mesh of thousands of workloads takes long
/// enough to stall the UI's runtime if it ran here.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

async fn run_demo(
    options: DemoOptions,
    events: mpsc::Sender<SourceEvent>,
    mut commands: mpsc::Receiver<SourceCommand>,
) {
    let tick = options.tick.max(Duration::from_millis(1));
    let stamp = Stamp {
        wall_clock: options.stamp_with_wall_clock,
    };
    let built = off_runtime(move || {
        let mesh = DemoMesh::new(options);
        let snapshot = mesh.snapshot();
        (mesh, snapshot)
    })
    .await;
    let Some((mut mesh, first)) = built else {
        let failure = SourceHealth::Failing("the demo mesh could not be built".into());
        let _ = events.send(SourceEvent::Status(failure)).await;
        return;
    };
    if !send(&events, first, stamp).await {
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
                let stepped = off_runtime(move || {
                    mesh.step();
                    let snapshot = mesh.snapshot();
                    (mesh, snapshot)
                })
                .await;
                let Some((next, snapshot)) = stepped else {
                    let failure = SourceHealth::Failing("the demo mesh stopped".into());
                    let _ = events.send(SourceEvent::Status(failure)).await;
                    return;
                };
                mesh = next;
                if !send(&events, snapshot, stamp).await {
                    return;
                }
            }
            command = commands.recv(), if commands_open => match command {
                Some(SourceCommand::RefreshNow) => {
                    let taken = off_runtime(move || {
                        let snapshot = mesh.snapshot();
                        (mesh, snapshot)
                    })
                    .await;
                    let Some((same, snapshot)) = taken else {
                        let failure = SourceHealth::Failing("the demo mesh stopped".into());
                        let _ = events.send(SourceEvent::Status(failure)).await;
                        return;
                    };
                    mesh = same;
                    if !send(&events, snapshot, stamp).await {
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
            () = events.closed() => return,
        }
    }
}

/// Which time a sent snapshot carries.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    wall_clock: bool,
}

/// Sends a snapshot; `false` once the receiver is gone.
async fn send(
    events: &mpsc::Sender<SourceEvent>,
    mut snapshot: MeshSnapshot,
    stamp: Stamp,
) -> bool {
    if stamp.wall_clock {
        if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            snapshot.taken_at_unix_s = now.as_secs_f64();
        }
    }
    events
        .send(SourceEvent::Snapshot(Box::new(snapshot)))
        .await
        .is_ok()
}
