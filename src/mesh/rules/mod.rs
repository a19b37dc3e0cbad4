//! Istio routing rules: checking the objects meshtui writes as the API server would (CRD
//! schema and CEL rules). Pure: no I/O.

pub mod cel;
pub mod schema;

pub use schema::{CrdSchemas, SchemaError, Verdict, Violation};
