//! Builds the live sources from the command line: Prometheus for traffic, Kubernetes for
//! the inventory (unless metrics-only), joined through the inventory feed.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::task::JoinHandle;

use crate::cli::{LiveArgs, LIVE_REFRESH};
use crate::mesh::Inventory;
use crate::source::kube::{client_for, watch_inventory, InventorySettings};
use crate::source::prometheus::{
    Auth, Endpoint, PrometheusClient, PrometheusSettings, PrometheusSource, RefreshSettings,
};
use crate::source::{InventoryFeed, InventoryHealth};

/// Istio's default cluster id, which the `*_cluster` metric labels carry unless the mesh
/// was installed with another `global.multiCluster.clusterName`.
const DEFAULT_CLUSTER: &str = "Kubernetes";

/// The running pieces of a live session; dropping it stops the inventory watchers.
pub struct LiveSources {
    pub client: PrometheusClient,
    pub refresh: RefreshSettings,
    pub inventory: Option<(InventoryFeed, JoinHandle<()>)>,
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
        if live.context.len() > 1 {
            bail!(
                "several --context values (one graph across clusters) are not supported yet; \
                 give one context"
            );
        }
        let context = live.context.first().map(String::as_str);
        let kube = if live.metrics_only {
            None
        } else {
            let client = client_for(context).await.context(
                "reading the Kubernetes configuration (pass --metrics-only to draw the graph \
                 from Prometheus alone)",
            )?;
            Some(client)
        };
        let settings = PrometheusSettings {
            auth: auth(live)?,
            headers: live.prometheus_header.clone(),
            ca_file: live.prometheus_ca.clone(),
            insecure_skip_tls_verify: live.insecure_skip_tls_verify,
            timeout: live.timeout,
            ..PrometheusSettings::new(endpoint)
        };
        let client =
            PrometheusClient::new(&settings, kube.clone()).context("setting up Prometheus")?;
        let refresh = RefreshSettings {
            window: live.window,
            interval: live.refresh_every.unwrap_or(LIVE_REFRESH),
            namespaces: live.namespaces.clone(),
            at_unix_s,
        };
        // Checked now so that a bad namespace or window fails before the terminal is touched.
        refresh.plan().context("planning the Prometheus queries")?;
        let inventory = kube.map(|client| {
            let settings = InventorySettings {
                namespaces: live.namespaces.clone(),
                cluster: DEFAULT_CLUSTER.into(),
            };
            watch_inventory(client, settings)
        });
        Ok(LiveSources {
            client,
            refresh,
            inventory,
        })
    }

    /// The running source for the TUI.
    pub fn source(&self) -> Result<PrometheusSource> {
        let feed = self.inventory.as_ref().map(|(feed, _)| feed.clone());
        PrometheusSource::new(self.client.clone(), self.refresh.clone(), feed)
            .context("starting the Prometheus source")
    }

    /// The inventory once the watchers have listed everything (or failed), for one-shot
    /// commands; empty in metrics-only mode.
    pub async fn settled_inventory(&self, patience: Duration) -> Result<Inventory> {
        let Some((feed, _)) = &self.inventory else {
            return Ok(Inventory::default());
        };
        let mut feed = feed.clone();
        let settled = tokio::time::timeout(
            patience,
            feed.wait_for(|s| s.health != InventoryHealth::Syncing),
        )
        .await
        .context("the Kubernetes API did not list the mesh in time")?
        .context("the Kubernetes watcher stopped")?;
        if let InventoryHealth::Failing(message) = &settled.health {
            bail!("reading the cluster failed: {message}");
        }
        Ok(settled.inventory.clone())
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
