//! The DestinationRule analyzers.

pub mod ca_certificates;
pub mod subset_pods;
