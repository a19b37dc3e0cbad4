//! Prometheus as a source of traffic samples: the query plan and the HTTP API's answers. Imports `mesh` only.

pub mod decode;
pub mod query;
pub mod samples;
