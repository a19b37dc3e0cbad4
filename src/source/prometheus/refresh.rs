//! One refresh: the query plan sent at once, the answers turned into samples, the samples
//! joined with the inventory into a snapshot.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::client::PrometheusClient;
use super::error::PrometheusError;
use super::query::{plan, PlanOptions, PlannedQuery};
use super::samples::{AnswerError, SampleDecoder};
use crate::mesh::{Inventory, TrafficSample};
use crate::source::MeshSnapshot;

/// What to ask for, and how often.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshSettings {
    /// The rate window, 1 minute to 1 day.
    pub window: Duration,
    /// Time between refreshes of the running source.
    pub interval: Duration,
    /// Namespaces to show; empty means all.
    pub namespaces: Vec<String>,
    /// Replay: evaluate every refresh at this fixed Unix time instead of now.
    pub at_unix_s: Option<f64>,
}

const MIN_WINDOW: Duration = Duration::from_secs(60);
const MAX_WINDOW: Duration = Duration::from_secs(24 * 3600);

impl RefreshSettings {
    /// The queries of every refresh; fails on a window or namespace a user can correct.
    pub fn plan(&self) -> Result<Vec<PlannedQuery>, PrometheusError> {
        // Shorter than a minute, rate() over Istio's usual 15 s scrape sees too few points.
        if !(MIN_WINDOW..=MAX_WINDOW).contains(&self.window) {
            return Err(PrometheusError::Window(self.window));
        }
        Ok(plan(&PlanOptions {
            namespaces: self.namespaces.clone(),
            window: self.window,
        })?)
    }

    /// The time the next refresh evaluates at.
    pub fn query_time_unix_s(&self) -> f64 {
        self.at_unix_s.unwrap_or_else(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            // Milliseconds are all the HTTP API keeps.
            (now.as_millis() as f64) / 1000.0
        })
    }
}

/// One snapshot, for the non-interactive `meshtui graph` command.
pub async fn fetch_snapshot(
    client: &PrometheusClient,
    refresh: &RefreshSettings,
    inventory: Inventory,
) -> Result<MeshSnapshot, PrometheusError> {
    let queries = refresh.plan()?;
    let time = refresh.query_time_unix_s();
    let samples = fetch_samples(client, &queries, time).await?;
    Ok(MeshSnapshot {
        taken_at_unix_s: time,
        window: refresh.window,
        samples,
        inventory,
        inventory_stale_since_unix_s: None,
    })
}

type Answer<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, PrometheusError>> + Send + 'a>>;

/// Sends every query at once and gathers the samples of all answers; the first failure
/// ends the refresh and drops the other queries (their connections are cancelled).
pub async fn fetch_samples(
    client: &PrometheusClient,
    queries: &[PlannedQuery],
    time_unix_s: f64,
) -> Result<Vec<TrafficSample>, PrometheusError> {
    let mut pending: Vec<Option<Answer<'_>>> = queries
        .iter()
        .map(|query| {
            let answer: Answer<'_> = Box::pin(client.instant_answer(&query.promql, time_unix_s));
            Some(answer)
        })
        .collect();
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); queries.len()];
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (slot, body) in pending.iter_mut().zip(bodies.iter_mut()) {
            let Some(answer) = slot else { continue };
            match answer.as_mut().poll(cx) {
                Poll::Ready(Ok(answer)) => {
                    *body = answer;
                    *slot = None;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => all_done = false,
            }
        }
        if all_done {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await?;
    // One after another into one list: joining per-answer lists moved every sample again,
    // and the answers share their peers.
    let mut decoder = SampleDecoder::new();
    for (query, body) in queries.iter().zip(bodies) {
        decoder
            .decode(query.kind, &body)
            .map_err(|error| match error {
                AnswerError::Decode(source) => PrometheusError::Decode {
                    endpoint: client.endpoint_name().to_owned(),
                    source,
                },
                AnswerError::Samples(source) => PrometheusError::Samples {
                    endpoint: client.endpoint_name().to_owned(),
                    source,
                },
            })?;
    }
    Ok(decoder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(window_s: u64) -> RefreshSettings {
        RefreshSettings {
            window: Duration::from_secs(window_s),
            interval: Duration::from_secs(5),
            namespaces: vec!["bookinfo".into()],
            at_unix_s: Some(1_795_557_600.0),
        }
    }

    #[test]
    fn windows_from_a_minute_to_a_day_make_a_plan() {
        assert_eq!(settings(60).plan().unwrap().len(), 4);
        assert_eq!(settings(86_400).plan().unwrap().len(), 4);
        for seconds in [30, 86_401] {
            let error = settings(seconds).plan().unwrap_err();
            assert!(
                error.to_string().contains("between 1 minute and 1 day"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_replay_evaluates_at_its_fixed_time() {
        assert_eq!(settings(60).query_time_unix_s(), 1_795_557_600.0);
    }
}
