//! The CRD schemas objects are checked against before anything is sent: the cluster's
//! own CustomResourceDefinitions, so the installed Istio decides; the copy meshtui embeds
//! when they cannot be read (reading CRDs is a cluster-wide right many users lack).

use kube::api::ApiResource;

use crate::mesh::rules::{CrdSchemas, SchemaError, Verdict};

use super::rest::Rest;

const CRDS: [&str; 3] = [
    "virtualservices.networking.istio.io",
    "destinationrules.networking.istio.io",
    "telemetries.telemetry.istio.io",
];

pub enum Schemas {
    Cluster(CrdSchemas),
    Embedded(&'static CrdSchemas),
}

impl Schemas {
    pub async fn read(rest: &Rest) -> Schemas {
        let resource = ApiResource {
            group: "apiextensions.k8s.io".into(),
            version: "v1".into(),
            api_version: "apiextensions.k8s.io/v1".into(),
            kind: "CustomResourceDefinition".into(),
            plural: "customresourcedefinitions".into(),
        };
        let mut crds = Vec::new();
        for name in CRDS {
            match rest.get_cluster(&resource, name).await {
                Ok(Some(crd)) => crds.push(crd),
                _ => return Schemas::Embedded(CrdSchemas::embedded()),
            }
        }
        match CrdSchemas::from_crds(crds.iter()) {
            Ok(schemas) => Schemas::Cluster(schemas),
            Err(_) => Schemas::Embedded(CrdSchemas::embedded()),
        }
    }

    pub fn validate(&self, object: &serde_json::Value) -> Result<Verdict, SchemaError> {
        match self {
            Schemas::Cluster(schemas) => schemas.validate(object),
            Schemas::Embedded(schemas) => schemas.validate(object),
        }
    }
}
