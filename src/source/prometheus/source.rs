//! The running Prometheus source: a refresh at start and then one per interval, at most one
//! in flight, each sent as a snapshot joined with the latest inventory.
//!
//! Latest wins by skipping: a tick that comes while a refresh is still in flight is dropped,
//! and the refresh in flight carries on (the client's timeout bounds it). Cancelling it
//! instead would mean that a Prometheus slower than the interval never delivers anything;
//! stacking would pile queries onto a server that is already slow. A refresh asked for with
//! `r` while one is in flight runs once that one is done.
//!
//! Latency percentiles are the costly query: Prometheus reads every histogram bucket of
//! every hop (twenty times the series of the request counts) and reads them once per
//! percentile. They are asked for once per rate window, which still covers every request,
//! in a query of their own, so rates and errors never wait for them; each snapshot carries
//! the latest percentiles.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::client::PrometheusClient;
use super::error::PrometheusError;
use super::query::{PlannedQuery, QueryKind};
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
    /// Requests and TCP bytes: asked for at every refresh.
    rate_queries: Vec<PlannedQuery>,
    /// Latency percentiles: asked for once per window.
    latency_queries: Vec<PlannedQuery>,
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
        let (latency_queries, rate_queries) = refresh
            .plan()?
            .into_iter()
            .partition(|query| query.kind == QueryKind::LatencyQuantiles);
        Ok(PrometheusSource {
            client,
            refresh,
            rate_queries,
            latency_queries,
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
    time_unix_s: f64,
) -> Refresh<'a> {
    Box::pin(async move {
        let samples = fetch_samples(client, queries, time_unix_s).await?;
        Ok(Refreshed {
            time_unix_s,
            samples,
        })
    })
}

/// Awaits the refresh in the slot, or never when there is none.
async fn finished(slot: &mut Option<Refresh<'_>>) -> Result<Refreshed, PrometheusError> {
    match slot.as_mut() {
        Some(refresh) => refresh.await,
        None => std::future::pending().await,
    }
}

/// The latest answers, which every snapshot is made of.
struct Latest {
    /// The rates' evaluation time and samples; `None` until the first rates arrive.
    rates: Option<Refreshed>,
    latency: Vec<TrafficSample>,
    /// Evaluation time from which the percentiles are due again; `None`: due now.
    latency_due_at_unix_s: Option<f64>,
}

impl Latest {
    fn latency_due(&self, time_unix_s: f64) -> bool {
        self.latency_due_at_unix_s
            .is_none_or(|due| time_unix_s >= due)
    }

    fn snapshot(
        &self,
        window: Duration,
        inventory: &Option<InventoryFeed>,
    ) -> Option<MeshSnapshot> {
        let rates = self.rates.as_ref()?;
        let mut samples = Vec::with_capacity(rates.samples.len() + self.latency.len());
        samples.extend(rates.samples.iter().cloned());
        samples.extend(self.latency.iter().cloned());
        let (current, inventory_stale_since_unix_s) = inventory
            .as_ref()
            .map(|feed| {
                let state = feed.borrow();
                (state.inventory.clone(), state.stale_since_unix_s)
            })
            .unwrap_or_default();
        Some(MeshSnapshot {
            taken_at_unix_s: rates.time_unix_s,
            window,
            samples,
            inventory: current,
            inventory_stale_since_unix_s,
        })
    }
}

async fn run_source(
    source: PrometheusSource,
    events: mpsc::Sender<SourceEvent>,
    mut commands: mpsc::Receiver<SourceCommand>,
) {
    let PrometheusSource {
        client,
        refresh,
        rate_queries,
        latency_queries,
        mut inventory,
    } = source;
    let mut inventory_open = inventory.is_some();
    // The first tick is immediate: the first refresh starts at once.
    let mut ticks = tokio::time::interval(refresh.interval.max(MIN_INTERVAL));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut rates_in_flight: Option<Refresh<'_>> = None;
    let mut latency_in_flight: Option<Refresh<'_>> = None;
    let mut latest = Latest {
        rates: None,
        latency: Vec::new(),
        latency_due_at_unix_s: None,
    };
    let mut again = false;
    let mut paused = false;
    let mut commands_open = true;
    let mut health = HealthReport::default();
    // Starts the rates, and the percentiles when they are due and none are in flight.
    macro_rules! start_refresh {
        () => {{
            let time = refresh.query_time_unix_s();
            rates_in_flight = Some(start(&client, &rate_queries, time));
            if latency_in_flight.is_none()
                && !latency_queries.is_empty()
                && latest.latency_due(time)
            {
                latency_in_flight = Some(start(&client, &latency_queries, time));
            }
        }};
    }
    loop {
        tokio::select! {
            _ = ticks.tick(), if !paused => {
                if rates_in_flight.is_none() {
                    start_refresh!();
                }
            }
            result = finished(&mut rates_in_flight), if rates_in_flight.is_some() => {
                rates_in_flight = None;
                let sent = match result {
                    Ok(refreshed) => {
                        latest.rates = Some(refreshed);
                        health.rates_failure = None;
                        send_snapshot(&latest, &refresh, &inventory, &events, &mut health).await
                    }
                    Err(error) => {
                        health.rates_failure = Some(error.to_string());
                        health.report(&events, &inventory).await
                    }
                };
                if !sent {
                    return;
                }
                if std::mem::take(&mut again) {
                    start_refresh!();
                    ticks.reset();
                }
            }
            result = finished(&mut latency_in_flight), if latency_in_flight.is_some() => {
                latency_in_flight = None;
                let sent = match result {
                    Ok(refreshed) => {
                        latest.latency = refreshed.samples;
                        latest.latency_due_at_unix_s =
                            Some(refreshed.time_unix_s + refresh.window.as_secs_f64());
                        health.latency_failure = None;
                        send_snapshot(&latest, &refresh, &inventory, &events, &mut health).await
                    }
                    Err(error) => {
                        // Due again at the next refresh; the last percentiles stay meanwhile.
                        health.latency_failure = Some(error.to_string());
                        // When Prometheus is down the rates in flight will say so, plainly.
                        rates_in_flight.is_some() || health.report(&events, &inventory).await
                    }
                };
                if !sent {
                    return;
                }
            }
            command = commands.recv(), if commands_open => match command {
                Some(SourceCommand::RefreshNow) => {
                    // Asked for by hand: everything, percentiles included.
                    latest.latency_due_at_unix_s = None;
                    if rates_in_flight.is_some() {
                        again = true;
                    } else {
                        start_refresh!();
                        ticks.reset();
                    }
                }
                Some(SourceCommand::SetPaused(pause)) => {
                    if pause {
                        // Nothing changes on screen while paused, not even a late answer.
                        rates_in_flight = None;
                        latency_in_flight = None;
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
                    if !health.report(&events, &inventory).await {
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

/// Sends the snapshot of the latest answers (none before the first rates) and the status;
/// `false` once the receiver is gone.
async fn send_snapshot(
    latest: &Latest,
    refresh: &RefreshSettings,
    inventory: &Option<InventoryFeed>,
    events: &mpsc::Sender<SourceEvent>,
    health: &mut HealthReport,
) -> bool {
    if let Some(snapshot) = latest.snapshot(refresh.window, inventory) {
        if events
            .send(SourceEvent::Snapshot(Box::new(snapshot)))
            .await
            .is_err()
        {
            return false;
        }
        // A snapshot tells the app the source is well; say again what still fails.
        health.shown = None;
    }
    health.report(events, inventory).await
}

/// What the status bar was last told, so that a status is sent only when it changes.
#[derive(Debug, Default)]
struct HealthReport {
    shown: Option<String>,
    rates_failure: Option<String>,
    latency_failure: Option<String>,
}

impl HealthReport {
    /// Sends the status for the current failures (if any) and the inventory's health;
    /// `false` once the receiver is gone.
    async fn report(
        &mut self,
        events: &mpsc::Sender<SourceEvent>,
        inventory: &Option<InventoryFeed>,
    ) -> bool {
        let inventory_health = inventory.as_ref().map(|feed| feed.borrow().health.clone());
        let prometheus = match (&self.rates_failure, &self.latency_failure) {
            (Some(rates), _) => Some(rates.clone()),
            (None, Some(latency)) => Some(format!("latency percentiles: {latency}")),
            (None, None) => None,
        };
        let message = health_message(prometheus.as_deref(), inventory_health.as_ref());
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
