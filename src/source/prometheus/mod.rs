//! Prometheus as a source of traffic samples: the HTTP client, the query plan, the answers and the running source. Imports `mesh` only.

pub mod client;
pub mod decode;
pub mod error;
mod json;
pub mod operations;
pub mod query;
pub mod refresh;
pub mod samples;
pub mod source;

pub use client::{Auth, Endpoint, PrometheusClient, PrometheusSettings};
pub use error::PrometheusError;
pub use operations::PrometheusOperations;
pub use refresh::{fetch_snapshot, RefreshSettings};
pub use source::PrometheusSource;
