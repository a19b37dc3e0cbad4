//! Istio routing rules: what a form asks for, written into VirtualServices and
//! DestinationRules, and checked as the API server would (CRD schema and CEL rules).
//! Pure: no I/O.

pub mod cel;
pub mod model;
pub mod render;
pub mod schema;

#[cfg(test)]
mod render_tests;

pub use schema::{CrdSchemas, SchemaError, Verdict, Violation};
