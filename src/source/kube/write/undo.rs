//! Undo: every object an apply touched goes back to exactly what it was: what it created
//! is deleted, what it changed is written back whole (spec, labels, annotations, including
//! fields meshtui's apply removed), what it deleted is created again. An object someone
//! changed since the apply is left alone and named.

use kube::api::{ApiResource, Preconditions};
use serde_json::Value;

use crate::mesh::rules::object::str_of;
use crate::source::write::{Applied, PlannedObject, WriteError};

use super::failure::write_error;
use super::object::{content, recreated, restored, version_of, ObjectRef};
use super::preview::resource_of;
use super::rest::Rest;

/// Undoes the objects in the reverse order of the apply, stopping at the first that cannot
/// be undone (routes must not be left naming subsets that are gone).
pub async fn undo(rest: &Rest, applied: &Applied) -> Result<(), WriteError> {
    for object in applied.objects.iter().rev() {
        undo_one(rest, object).await?;
    }
    Ok(())
}

async fn undo_one(rest: &Rest, planned: &PlannedObject) -> Result<(), WriteError> {
    let Some(known) = planned.after.as_ref().or(planned.before.as_ref()) else {
        return Ok(());
    };
    let reference = ObjectRef::of(known);
    let resource = resource_of(&reference, version_of(known))?;
    let current = rest
        .get(&resource, &reference.namespace, &reference.name)
        .await
        .map_err(|failure| write_error(failure, &reference.subject("get", &resource)))?;
    let changed = || WriteError::Changed {
        object: reference.label(),
    };
    match (&planned.before, &planned.after, current) {
        // Created: deleted again, if it still is what meshtui created.
        (None, Some(_), None) => Ok(()),
        (None, Some(after), Some(current)) => {
            if content(&current) != content(after) {
                return Err(changed());
            }
            let preconditions = Preconditions {
                uid: Some(str_of(&after["metadata"]["uid"]).to_owned()),
                resource_version: Some(str_of(&current["metadata"]["resourceVersion"]).to_owned()),
            };
            rest.delete(
                &resource,
                &reference.namespace,
                &reference.name,
                preconditions,
                false,
            )
            .await
            .map_err(|failure| write_error(failure, &reference.subject("delete", &resource)))
        }
        // Changed: written back whole over what meshtui wrote.
        (Some(_), Some(_), None) => Err(WriteError::NotFound {
            object: reference.label(),
        }),
        (Some(before), Some(after), Some(current)) => {
            if content(&current) != content(after) {
                return Err(changed());
            }
            put_back(rest, &resource, &reference, &restored(&current, before)).await
        }
        // Deleted: created again, unless someone created it meanwhile.
        (Some(before), None, None) => rest
            .create(&resource, &reference.namespace, &recreated(before))
            .await
            .map(|_| ())
            .map_err(|failure| write_error(failure, &reference.subject("create", &resource))),
        (Some(_), None, Some(_)) => Err(changed()),
        (None, None, _) => Ok(()),
    }
}

async fn put_back(
    rest: &Rest,
    resource: &ApiResource,
    reference: &ObjectRef,
    object: &Value,
) -> Result<(), WriteError> {
    rest.replace(resource, &reference.namespace, &reference.name, object)
        .await
        .map(|_| ())
        .map_err(|failure| write_error(failure, &reference.subject("update", resource)))
}
