//! A `kube::Client` from the user's kubeconfig (a named context, `KUBECONFIG`) or the
//! in-cluster service account; exec auth plugins and OIDC come with kube's config loader.

use kube::config::{Config, KubeConfigOptions};

use super::KubeError;

/// The client for `context`, or for the current context (falling back to in-cluster
/// credentials) when none is named.
pub async fn client_for(context: Option<&str>) -> Result<kube::Client, KubeError> {
    let config = match context {
        Some(context) => {
            let options = KubeConfigOptions {
                context: Some(context.to_owned()),
                ..KubeConfigOptions::default()
            };
            Config::from_kubeconfig(&options)
                .await
                .map_err(|source| KubeError::Kubeconfig {
                    context: context.to_owned(),
                    source,
                })?
        }
        None => Config::infer().await.map_err(KubeError::NoConfig)?,
    };
    kube::Client::try_from(config).map_err(KubeError::Client)
}
