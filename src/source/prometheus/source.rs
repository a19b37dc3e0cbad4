//! The running Prometheus source: a refresh at start and then one per interval, at most one
//! in flight, each sent as a snapshot joined with the latest inventory.
//!
//! Latest wins by skipping: a tick that comes while a refresh is still in flight is dropped,
//! and the refresh in flight carries on (the client's timeout bounds it). Cancelling it
//! instead would mean that a Prometheus slower than the interval never delivers anything;
//! stacking would pile queries onto a server that is already slow. A refresh asked for with
//! `r` while one is in flight runs once that one is done.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::client::PrometheusClient;
use super::error::PrometheusError;
use super::query::PlannedQuery;
use super::refresh::{fetch_samples, RefreshSettings};
use crate::mesh::TrafficSample;
use crate::source::{
    InventoryFeed, InventoryHealth, MeshSnapshot, MeshSource, SourceCommand, SourceDescription,
    SourceEvent, SourceHealth, SourceTask,
};

/// Below this the loop would mostly wake to skip ticks.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Prometheus as a [`MeshSource`].
#[derive(Debug)]
pub struct PrometheusSource {
    client: PrometheusClient,
    refresh: RefreshSettings,
    queries: Vec<PlannedQuery>,
    inventory: Option<InventoryFeed>,
}

impl PrometheusSource {
    /// `inventory`: where the Kubernetes watcher publishes what exists; `None` is
    /// metrics-only mode (the graph comes from the metrics alone). Fails on a window or
    /// namespace list no refresh could use, before anything runs.
    pub fn new(
        client: PrometheusClient,
        refresh: RefreshSettings,
        inventory: Option<InventoryFeed>,
    ) -> Result<Self, PrometheusError> {
        let queries = refresh.plan()?;
        Ok(PrometheusSource {
            client,
            refresh,
            queries,
            inventory,
        })
    }
}

impl MeshSource for PrometheusSource {
    fn describe(&self) -> SourceDescription {
        SourceDescription {
            label: self.client.endpoint_name().to_owned(),
            is_demo: false,
            window: self.refresh.window,
            refresh_interval: self.refresh.interval,
        }
    }

    fn run(
        self: Box<Self>,
        events: mpsc::Sender<SourceEvent>,
        commands: mpsc::Receiver<SourceCommand>,
    ) -> SourceTask {
        Box::pin(run_source(*self, events, commands))
    }
}

type Refresh<'a> = Pin<Box<dyn Future<Output = Result<Refreshed, PrometheusError>> + Send + 'a>>;

struct Refreshed {
    time_unix_s: f64,
    samples: Vec<TrafficSample>,
}

fn start<'a>(
    client: &'a PrometheusClient,
    queries: &'a [PlannedQuery],
    refresh: &RefreshSettings,
) -> Refresh<'a> {
    let time_unix_s = refresh.query_time_unix_s();
    Box::pin(async move {
        let samples = fetch_samples(client, queries, time_unix_s).await?;
        Ok(Refreshed {
            time_unix_s,
            samples,
        })
    })
}

async fn run_source(
    source: PrometheusSource,
    events: mpsc::Sender<SourceEvent>,
    mut commands: mpsc::Receiver<SourceCommand>,
) {
    let PrometheusSource {
        client,
        refresh,
        queries,
        mut inventory,
    } = source;
    let mut inventory_open = inventory.is_some();
    // The first tick is immediate: the first refresh starts at once.
    let mut ticks = tokio::time::interval(refresh.interval.max(MIN_INTERVAL));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut in_flight: Option<Refresh<'_>> = None;
    let mut again = false;
    let mut paused = false;
    let mut commands_open = true;
    let mut health = HealthReport::default();
    loop {
        tokio::select! {
            _ = ticks.tick(), if !paused => {
                if in_flight.is_none() {
                    in_flight = Some(start(&client, &queries, &refresh));
                }
            }
            result = async {
                match in_flight.as_mut() {
                    Some(refresh) => refresh.await,
                    None => std::future::pending().await,
                }
            }, if in_flight.is_some() => {
                in_flight = None;
                let sent = match result {
                    Ok(refreshed) => {
                        let (current, inventory_stale_since_unix_s) = inventory
                            .as_ref()
                            .map(|feed| {
                                let state = feed.borrow();
                                (state.inventory.clone(), state.stale_since_unix_s)
                            })
                            .unwrap_or_default();
                        let snapshot = MeshSnapshot {
                            taken_at_unix_s: refreshed.time_unix_s,
                            window: refresh.window,
                            samples: refreshed.samples,
                            inventory: current,
                            inventory_stale_since_unix_s,
                        };
                        health.snapshot_sent();
                        events.send(SourceEvent::Snapshot(Box::new(snapshot))).await.is_ok()
                            && health.report(&events, None, &inventory).await
                    }
                    Err(error) => {
                        health.report(&events, Some(error.to_string()), &inventory).await
                    }
                };
                if !sent {
                    return;
                }
                if std::mem::take(&mut again) {
                    in_flight = Some(start(&client, &queries, &refresh));
                    ticks.reset();
                }
            }
            command = commands.recv(), if commands_open => match command {
                Some(SourceCommand::RefreshNow) => {
                    if in_flight.is_some() {
                        again = true;
                    } else {
                        in_flight = Some(start(&client, &queries, &refresh));
                        ticks.reset();
                    }
                }
                Some(SourceCommand::SetPaused(pause)) => {
                    if pause {
                        // Nothing changes on screen while paused, not even a late answer.
                        in_flight = None;
                        again = false;
                    } else if paused {
                        ticks.reset_immediately();
                    }
                    paused = pause;
                }
                // Nobody will send commands any more; keep refreshing.
                None => commands_open = false,
            },
            changed = async {
                match inventory.as_mut() {
                    Some(feed) => feed.changed().await.is_ok(),
                    None => std::future::pending().await,
                }
            }, if inventory_open => {
                if changed {
                    let failure = health.prometheus_failure.clone();
                    if !health.report(&events, failure, &inventory).await {
                        return;
                    }
                } else {
                    // The watcher is gone; its last inventory stays readable in the receiver.
                    inventory_open = false;
                }
            }
            () = events.closed() => return,
        }
    }
}

/// What the status bar was last told, so that a status is sent only when it changes.
#[derive(Debug, Default)]
struct HealthReport {
    shown: Option<String>,
    prometheus_failure: Option<String>,
}

impl HealthReport {
    /// A snapshot tells the app that the source is fine.
    fn snapshot_sent(&mut self) {
        self.shown = None;
        self.prometheus_failure = None;
    }

    /// Sends the status for this Prometheus failure (if any) and the inventory's health;
    /// `false` once the receiver is gone.
    async fn report(
        &mut self,
        events: &mpsc::Sender<SourceEvent>,
        prometheus_failure: Option<String>,
        inventory: &Option<InventoryFeed>,
    ) -> bool {
        let inventory_health = inventory.as_ref().map(|feed| feed.borrow().health.clone());
        let message = health_message(prometheus_failure.as_deref(), inventory_health.as_ref());
        self.prometheus_failure = prometheus_failure;
        if message == self.shown {
            return true;
        }
        self.shown = message.clone();
        let health = match message {
            Some(message) => SourceHealth::Failing(message),
            None => SourceHealth::Ok,
        };
        events.send(SourceEvent::Status(health)).await.is_ok()
    }
}

/// One line for the status bar: what fails, Prometheus first.
fn health_message(
    prometheus_failure: Option<&str>,
    inventory: Option<&InventoryHealth>,
) -> Option<String> {
    let kubernetes = match inventory {
        Some(InventoryHealth::Failing(reason)) => Some(format!("Kubernetes: {reason}")),
        _ => None,
    };
    match (prometheus_failure, kubernetes) {
        (None, None) => None,
        (Some(prometheus), None) => Some(prometheus.to_owned()),
        (None, Some(kubernetes)) => Some(kubernetes),
        (Some(prometheus), Some(kubernetes)) => Some(format!("{prometheus}; {kubernetes}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_names_every_failing_part_prometheus_first() {
        let down = InventoryHealth::Failing("the API server refused the connection".into());
        let cases = [
            ("all well", None, Some(&InventoryHealth::Ok), None),
            ("metrics only", None, None, None),
            (
                "Prometheus down",
                Some("Prometheus at http://p refused the connection"),
                Some(&InventoryHealth::Syncing),
                Some("Prometheus at http://p refused the connection"),
            ),
            (
                "Kubernetes down",
                None,
                Some(&down),
                Some("Kubernetes: the API server refused the connection"),
            ),
            (
                "both down",
                Some("Prometheus at http://p answered 500: oops"),
                Some(&down),
                Some("Prometheus at http://p answered 500: oops; Kubernetes: the API server refused the connection"),
            ),
        ];
        for (name, prometheus, inventory, expected) in cases {
            assert_eq!(
                health_message(prometheus, inventory).as_deref(),
                expected,
                "{name}"
            );
        }
    }
}
