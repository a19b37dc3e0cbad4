//! Applying a preview: only if every object is still as the preview read it, only if the
//! server's dry run of every object passes, then for real; a failure half-way puts back
//! what was already written.

use serde_json::Value;

use crate::mesh::rules::object::str_of;
use crate::mesh::rules::render::ObjectChange;
use crate::source::write::{Applied, PlannedObject, Preview, WriteError};

use super::failure::write_error;
use super::object::{version_of, without_managed_fields, ObjectRef};
use super::preview::{preconditions, resource_of};
use super::rest::Rest;
use super::undo::undo;

pub async fn apply(rest: &Rest, preview: &Preview, force: bool) -> Result<Applied, WriteError> {
    for planned in &preview.objects {
        unchanged(rest, planned).await?;
    }
    for planned in &preview.objects {
        write(rest, planned, force, true).await?;
    }
    let mut done = Vec::new();
    for planned in &preview.objects {
        match write(rest, planned, force, false).await {
            Ok(after) => done.push(PlannedObject {
                change: planned.change.clone(),
                before: planned.before.clone(),
                after: after.as_ref().map(without_managed_fields),
            }),
            Err(error) => {
                return Err(match undo(rest, &Applied { objects: done }).await {
                    Ok(()) => error,
                    Err(also) => WriteError::Failed(format!(
                        "{error}; putting back what was already applied failed too: {also}"
                    )),
                })
            }
        }
    }
    Ok(Applied { objects: done })
}

/// The version an object of the plan is written at.
fn version(planned: &PlannedObject) -> &str {
    match (&planned.change, &planned.before) {
        (ObjectChange::Apply(configuration), _) => version_of(configuration),
        (_, Some(before)) => version_of(before),
        _ => "v1",
    }
}

/// Refuses when the object is not the one the preview read: never overwrite what changed
/// meanwhile.
async fn unchanged(rest: &Rest, planned: &PlannedObject) -> Result<(), WriteError> {
    let reference = ObjectRef::of_change(&planned.change);
    let resource = resource_of(&reference, version(planned))?;
    let current = rest
        .get(&resource, &reference.namespace, &reference.name)
        .await
        .map_err(|failure| write_error(failure, &reference.subject("get", &resource)))?;
    let version = |object: &Value| str_of(&object["metadata"]["resourceVersion"]).to_owned();
    let same = match (&planned.before, &current) {
        (None, None) => true,
        (Some(before), Some(current)) => version(before) == version(current),
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(WriteError::Changed {
            object: reference.label(),
        })
    }
}

async fn write(
    rest: &Rest,
    planned: &PlannedObject,
    force: bool,
    dry_run: bool,
) -> Result<Option<Value>, WriteError> {
    let reference = ObjectRef::of_change(&planned.change);
    let resource = resource_of(&reference, version(planned))?;
    match &planned.change {
        ObjectChange::Apply(configuration) => rest
            .apply(
                &resource,
                &reference.namespace,
                &reference.name,
                configuration,
                dry_run,
                force,
            )
            .await
            .map(Some)
            .map_err(|failure| write_error(failure, &reference.subject("patch", &resource))),
        ObjectChange::Delete { .. } => rest
            .delete(
                &resource,
                &reference.namespace,
                &reference.name,
                preconditions(planned.before.as_ref()),
                dry_run,
            )
            .await
            .map(|()| None)
            .map_err(|failure| write_error(failure, &reference.subject("delete", &resource))),
    }
}
