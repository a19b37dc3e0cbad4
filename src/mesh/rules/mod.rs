//! Istio routing rules as Kubernetes objects: manifests parsed from YAML, and the
//! istioctl-compatible analyzers over them. Pure: no I/O, nothing else from the crate.

pub mod analyze;
pub mod object;
pub mod yaml;

pub use object::{KubeObject, SourcePosition};
pub use yaml::{parse_objects, ParseError};
