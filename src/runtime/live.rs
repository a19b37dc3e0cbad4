//! Builds the live sources from the command line: Prometheus for traffic, Kubernetes for
//! the inventory of each cluster (unless metrics-only), joined through the inventory feed.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::task::JoinHandle;

use crate::cli::{LiveArgs, LIVE_REFRESH};
use crate::mesh::Inventory;
use crate::source::kube::{
    client_for, merged_state, watch_clusters, ClusterFeeds, InventorySettings, KubeLogFollower,
    KubeWriter, LogSettings,
};
use crate::source::logs::LogFollower;
use crate::source::prometheus::{
    Auth, Endpoint, PrometheusClient, PrometheusSettings, PrometheusSource, RefreshSettings,
};
use crate::source::write::RuleWriter;
use crate::source::{InventoryHealth, InventoryState};

/// The running pieces of a live session; dropping it stops the inventory watchers.
pub struct LiveSources {
    pub client: PrometheusClient,
    /// Rules are written through the first context's API server.
    pub rules_client: Option<kube::Client>,
    pub refresh: RefreshSettings,
    pub inventory: Option<(ClusterFeeds, JoinHandle<()>)>,
    /// Every context's client with its cluster's name, for pod logs.
    pub log_clients: Vec<(String, kube::Client)>,
}

/// The inventory a one-shot command reads, and the clusters left out of it.
#[derive(Debug, Default)]
pub struct SettledInventory {
    pub inventory: Inventory,
    /// One line per cluster whose objects could not be read (the others' are there).
    pub problems: Vec<String>,
}

impl Drop for LiveSources {
    fn drop(&mut self) {
        if let Some((_, task)) = &self.inventory {
            task.abort();
        }
    }
}

impl LiveSources {
    pub async fn start(live: &LiveArgs, at_unix_s: Option<f64>) -> Result<Self> {
        let Some(prometheus) = &live.prometheus else {
            bail!(
                "watching a live mesh needs --prometheus URL (or kube:NAMESPACE/[https:]SERVICE:PORT); \
                 to try meshtui without a cluster, run `meshtui demo`"
            );
        };
        let endpoint: Endpoint = prometheus.parse().context("reading --prometheus")?;
        let targets = live.clusters().map_err(|e| anyhow!(e))?;
        let mut kube = Vec::new();
        if !live.metrics_only {
            for target in &targets {
                let client = client_for(target.context.as_deref()).await.context(
                    "reading the Kubernetes configuration (pass --metrics-only to draw the \
                     graph from Prometheus alone)",
                )?;
                kube.push((client, target.cluster.clone()));
            }
        }
        let settings = PrometheusSettings {
            auth: auth(live)?,
            headers: live.prometheus_header.clone(),
            ca_file: live.prometheus_ca.clone(),
            insecure_skip_tls_verify: live.insecure_skip_tls_verify,
            timeout: live.timeout,
            ..PrometheusSettings::new(endpoint)
        };
        // Through the service proxy, Prometheus is reached in the first context's cluster.
        let first_client = kube.first().map(|(client, _)| client.clone());
        let log_clients = kube
            .iter()
            .map(|(client, cluster)| (cluster.clone(), client.clone()))
            .collect();
        let client = PrometheusClient::new(&settings, first_client.clone())
            .context("setting up Prometheus")?;
        let refresh = RefreshSettings {
            window: live.window,
            interval: live.refresh_every.unwrap_or(LIVE_REFRESH),
            namespaces: live.namespaces.clone(),
            at_unix_s,
        };
        // Checked now so that a bad namespace or window fails before the terminal is touched.
        refresh.plan().context("planning the Prometheus queries")?;
        let inventory = (!kube.is_empty()).then(|| {
            let clusters = kube
                .into_iter()
                .map(|(client, cluster)| {
                    let settings = InventorySettings {
                        namespaces: live.namespaces.clone(),
                        cluster,
                    };
                    (client, settings)
                })
                .collect();
            watch_clusters(clusters)
        });
        Ok(LiveSources {
            client,
            rules_client: first_client,
            refresh,
            inventory,
            log_clients,
        })
    }

    /// The writer of the rule forms; none in metrics-only mode, where no cluster is known.
    pub fn writer(&self) -> Option<Box<dyn RuleWriter>> {
        self.rules_client
            .clone()
            .map(|client| Box::new(KubeWriter::new(client)) as Box<dyn RuleWriter>)
    }

    /// The follower of pods' access logs; none in metrics-only mode.
    pub fn log_follower(&self) -> Option<Box<dyn LogFollower>> {
        (!self.log_clients.is_empty()).then(|| {
            Box::new(KubeLogFollower::new(
                self.log_clients.clone(),
                LogSettings::default(),
            )) as Box<dyn LogFollower>
        })
    }

    /// The running source for the TUI.
    pub fn source(&self) -> Result<PrometheusSource> {
        let feed = self
            .inventory
            .as_ref()
            .map(|(feeds, _)| feeds.merged.clone());
        PrometheusSource::new(self.client.clone(), self.refresh.clone(), feed)
            .context("starting the Prometheus source")
    }

    /// The inventory once every cluster's watchers have listed everything (or failed), for
    /// one-shot commands; empty in metrics-only mode. With one cluster its failure is an
    /// error; with several, only all of them failing is, and the others' are listed as
    /// problems.
    pub async fn settled_inventory(&self, patience: Duration) -> Result<SettledInventory> {
        match &self.inventory {
            Some((feeds, _)) => settle(feeds, patience).await,
            None => Ok(SettledInventory::default()),
        }
    }
}

/// The clusters' inventory once every watcher has listed everything (or failed); see
/// [`LiveSources::settled_inventory`].
pub async fn settle(feeds: &ClusterFeeds, patience: Duration) -> Result<SettledInventory> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut states = Vec::with_capacity(feeds.clusters.len());
    for (cluster, feed) in &feeds.clusters {
        let mut feed = feed.clone();
        let settled = tokio::time::timeout_at(
            deadline,
            feed.wait_for(|s| s.health != InventoryHealth::Syncing),
        )
        .await
        .map(|answer| answer.map(|state| state.clone()));
        let state = match settled {
            Ok(Ok(state)) => state,
            Ok(Err(_)) => failing(&feed, "the Kubernetes watcher stopped"),
            Err(_) => failing(&feed, "the Kubernetes API did not list the mesh in time"),
        };
        states.push((cluster.as_str(), state));
    }
    let problems: Vec<String> = states
        .iter()
        .filter_map(|(cluster, state)| match &state.health {
            InventoryHealth::Failing(message) => Some(format!("cluster {cluster}: {message}")),
            _ => None,
        })
        .collect();
    match states.as_slice() {
        [(_, only)] => {
            if let InventoryHealth::Failing(message) = &only.health {
                bail!("reading the cluster failed: {message}");
            }
        }
        _ if problems.len() == states.len() => {
            bail!("reading every cluster failed: {}", problems.join("; "))
        }
        _ => {}
    }
    let inventory = merged_state(states.iter().map(|(c, s)| (*c, s))).inventory;
    Ok(SettledInventory {
        inventory,
        problems,
    })
}

/// What a watcher last published, as failing for `reason` (keeping its inventory).
fn failing(feed: &crate::source::InventoryFeed, reason: &str) -> InventoryState {
    let last = feed.borrow();
    InventoryState {
        inventory: last.inventory.clone(),
        health: InventoryHealth::Failing(reason.to_owned()),
        stale_since_unix_s: last.stale_since_unix_s,
    }
}

fn auth(live: &LiveArgs) -> Result<Auth> {
    if let Some(file) = &live.prometheus_token_file {
        return Ok(Auth::Bearer(read_token(file)?));
    }
    if let Some(token) = &live.prometheus_token {
        return Ok(Auth::Bearer(token.clone()));
    }
    match (&live.prometheus_user, &live.prometheus_password) {
        (Some(user), Some(password)) => Ok(Auth::BasicAuth {
            user: user.clone(),
            password: password.clone(),
        }),
        (Some(_), None) => {
            bail!("--prometheus-user needs the password in MESHTUI_PROMETHEUS_PASSWORD")
        }
        _ => Ok(Auth::None),
    }
}

fn read_token(file: &Path) -> Result<String> {
    let token = std::fs::read_to_string(file)
        .with_context(|| format!("reading the Prometheus token from {}", file.display()))?;
    let token = token.trim();
    if token.is_empty() {
        bail!("{} holds no token", file.display());
    }
    Ok(token.to_owned())
}
