//! A preview: the rule rendered against the namespace's VirtualServices and
//! DestinationRules as they are now, each object checked against the CRD schemas (nothing
//! is sent while one fails), then dry-run by the API server.

use kube::api::Preconditions;
use serde_json::Value;

use crate::mesh::inventory::IstioKind;
use crate::mesh::rules::object::str_of;
use crate::mesh::rules::render::{render, Existing, ObjectChange};
use crate::mesh::rules::telemetry::second_namespace_wide;
use crate::source::write::{PlannedObject, Preview, RuleRequest, WriteError};

use super::super::istio::{api_resource, ISTIO_VERSIONS};
use super::failure::{is_field_conflict, write_error, Subject};
use super::object::{
    apply_configuration, telemetry_version, version_of, without_managed_fields, ObjectRef,
    TELEMETRY,
};
use super::rest::{Failure, Rest};
use super::schemas::Schemas;

pub async fn preview(rest: &Rest, request: RuleRequest) -> Result<Preview, WriteError> {
    let namespace = request.target.namespace.clone();
    let (version, virtual_services) = read_served(rest, &namespace).await?;
    let destination_rules = list(rest, IstioKind::DestinationRule, version, &namespace).await?;
    let changes = render(
        &request.target,
        &request.versions,
        &request.change,
        Existing {
            virtual_services: &virtual_services,
            destination_rules: &destination_rules,
        },
    );
    let existing: Vec<&Value> = virtual_services.iter().chain(&destination_rules).collect();
    let find = |reference: &ObjectRef| {
        existing
            .iter()
            .find(|object| ObjectRef::of(object) == *reference)
            .map(|object| (*object).clone())
    };
    let schemas = Schemas::read(rest).await;
    let mut planned = Vec::new();
    for change in ordered(changes) {
        let reference = ObjectRef::of_change(&change);
        let mut before = find(&reference);
        let api_version = if reference.kind == TELEMETRY {
            // Not among the lists read above: read on its own.
            let resource = resource_of(&reference, telemetry_version(version))?;
            before = rest
                .get(&resource, &reference.namespace, &reference.name)
                .await
                .map_err(|failure| write_error(failure, &reference.subject("get", &resource)))?;
            let others = rest
                .list(&resource, &reference.namespace)
                .await
                .map_err(|failure| {
                    write_error(failure, &list_subject(&resource.plural, &namespace))
                })?;
            if let Some(why) = second_namespace_wide(&reference.name, &others) {
                return Err(WriteError::Failed(why));
            }
            resource.api_version
        } else {
            format!("networking.istio.io/{version}")
        };
        match change {
            ObjectChange::Apply(desired) => {
                let resource_version = before
                    .as_ref()
                    .map(|b| str_of(&b["metadata"]["resourceVersion"]));
                let configuration = apply_configuration(&desired, &api_version, resource_version);
                check(&schemas, &configuration, &reference)?;
                planned.push((ObjectChange::Apply(configuration), before));
            }
            // Nothing to delete when it is gone already.
            delete if before.is_some() => planned.push((delete, before)),
            _ => {}
        }
    }
    let mut objects = Vec::new();
    for (change, before) in planned {
        let after = dry_run(rest, &change, before.as_ref()).await?;
        objects.push(PlannedObject {
            change,
            before: before.as_ref().map(without_managed_fields),
            after: after.as_ref().map(without_managed_fields),
        });
    }
    Ok(Preview { request, objects })
}

/// Subsets exist before routes name them; routes go before the subsets they named.
fn ordered(mut changes: Vec<ObjectChange>) -> Vec<ObjectChange> {
    changes.sort_by_key(|change| match change {
        ObjectChange::Apply(object) if object["kind"] == "DestinationRule" => 0,
        ObjectChange::Apply(_) => 1,
        ObjectChange::Delete { kind, .. } if kind == "VirtualService" => 2,
        ObjectChange::Delete { .. } => 3,
    });
    changes
}

/// The namespace's VirtualServices at the version the cluster serves (`v1` from Istio
/// 1.22 on, `v1beta1` before), and that version.
async fn read_served(
    rest: &Rest,
    namespace: &str,
) -> Result<(&'static str, Vec<Value>), WriteError> {
    for version in ISTIO_VERSIONS {
        let resource = api_resource(IstioKind::VirtualService, version);
        match rest.list(&resource, namespace).await {
            Ok(objects) => return Ok((version, objects)),
            Err(Failure::Api(status)) if status.code == 404 => continue,
            Err(failure) => {
                return Err(write_error(
                    failure,
                    &list_subject(&resource.plural, namespace),
                ))
            }
        }
    }
    Err(WriteError::Failed(
        "the cluster serves no VirtualServices: Istio's networking API is not installed".into(),
    ))
}

async fn list(
    rest: &Rest,
    kind: IstioKind,
    version: &str,
    namespace: &str,
) -> Result<Vec<Value>, WriteError> {
    let resource = api_resource(kind, version);
    rest.list(&resource, namespace)
        .await
        .map_err(|failure| write_error(failure, &list_subject(&resource.plural, namespace)))
}

fn list_subject(plural: &str, namespace: &str) -> Subject {
    Subject {
        verb: "list",
        resource: format!("{plural}.networking.istio.io"),
        namespace: namespace.to_owned(),
        object: format!("{plural} in {namespace}"),
    }
}

/// Refuses an object the schema refuses, naming each field.
fn check(schemas: &Schemas, object: &Value, reference: &ObjectRef) -> Result<(), WriteError> {
    // A kind or version the schemas lack is left to the server's dry run.
    let Ok(verdict) = schemas.validate(object) else {
        return Ok(());
    };
    if verdict.violations.is_empty() {
        return Ok(());
    }
    Err(WriteError::Invalid {
        object: reference.label(),
        causes: verdict.violations,
    })
}

/// Preconditions that the object still is the one read.
pub fn preconditions(before: Option<&Value>) -> Preconditions {
    let field = |name: &str| {
        before
            .and_then(|b| b["metadata"][name].as_str())
            .map(str::to_owned)
    };
    Preconditions {
        resource_version: field("resourceVersion"),
        uid: field("uid"),
    }
}

/// The server's answer to the change, without storing it. A dry run that conflicts with
/// other managers is run again as if forced, to show what taking the fields over would
/// give: the apply itself (never forced unless the user says so) reports the conflict.
async fn dry_run(
    rest: &Rest,
    change: &ObjectChange,
    before: Option<&Value>,
) -> Result<Option<Value>, WriteError> {
    let reference = ObjectRef::of_change(change);
    match change {
        ObjectChange::Apply(configuration) => {
            let resource = resource_of(&reference, version_of(configuration))?;
            let subject = reference.subject("patch", &resource);
            let attempt = |force| {
                rest.apply(
                    &resource,
                    &reference.namespace,
                    &reference.name,
                    configuration,
                    true,
                    force,
                )
            };
            match attempt(false).await {
                Ok(after) => Ok(Some(after)),
                Err(Failure::Api(status)) if is_field_conflict(&status) => attempt(true)
                    .await
                    .map(Some)
                    .map_err(|failure| write_error(failure, &subject)),
                Err(failure) => Err(write_error(failure, &subject)),
            }
        }
        ObjectChange::Delete { .. } => {
            let version = before.map(version_of).unwrap_or("v1");
            let resource = resource_of(&reference, version)?;
            rest.delete(
                &resource,
                &reference.namespace,
                &reference.name,
                preconditions(before),
                true,
            )
            .await
            .map(|()| None)
            .map_err(|failure| write_error(failure, &reference.subject("delete", &resource)))
        }
    }
}

pub fn resource_of(
    reference: &ObjectRef,
    version: &str,
) -> Result<kube::api::ApiResource, WriteError> {
    reference.resource(version).ok_or_else(|| {
        WriteError::Failed(format!("meshtui does not write {} objects", reference.kind))
    })
}
