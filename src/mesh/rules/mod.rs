//! Istio routing rules as Kubernetes objects: manifests parsed from YAML, the istioctl-
//! compatible analyzers over them, what a form asks for written into VirtualServices and
//! DestinationRules, and checks as the API server makes them (CRD schema and CEL rules).
//! Pure: no I/O, nothing else from the crate.

pub mod analyze;
pub mod cel;
pub mod diff;
pub mod model;
pub mod object;
pub mod render;
pub mod schema;
pub mod telemetry;
pub mod validate;
pub mod yaml;

#[cfg(test)]
mod render_tests;

pub use object::{KubeObject, SourcePosition};
pub use schema::{CrdSchemas, SchemaError, Verdict, Violation};
pub use yaml::{parse_objects, ParseError};
