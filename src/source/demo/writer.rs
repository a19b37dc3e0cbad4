//! The demo mesh's [`RuleWriter`]: rules rendered against the demo's store, checked as a
//! cluster would check them, written there, and undone exactly. The simulation reads the
//! same store, so an applied rule changes the next snapshots.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::mesh::rules::render::{render, Existing, ObjectChange};
use crate::mesh::rules::telemetry::second_namespace_wide;
use crate::source::write::{
    Applied, PlannedObject, Preview, RuleRequest, RuleWriter, WriteCommand, WriteError, WriteEvent,
    FIELD_MANAGER,
};
use crate::source::SourceTask;

use super::dryrun;
use super::store::{resource_version, without_server_fields, ConfigStore, ObjectKey, RuleStore};

#[derive(Debug, Clone)]
pub struct DemoWriter {
    store: RuleStore,
    read_only: bool,
}

fn key_of(change: &ObjectChange) -> ObjectKey {
    match change {
        ObjectChange::Apply(object) => ObjectKey::of(object),
        ObjectChange::Delete {
            kind,
            namespace,
            name,
        } => ObjectKey {
            kind: kind.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
        },
    }
}

/// A dry-run writes nothing, so the resourceVersion stays the stored one (none for an
/// object that would be created).
fn as_dry_run(mut object: Value, before: Option<&Value>) -> Value {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        match before.and_then(|b| b.pointer("/metadata/resourceVersion")) {
            Some(version) => metadata.insert("resourceVersion".into(), version.clone()),
            None => metadata.remove("resourceVersion"),
        };
    }
    object
}

/// Whether the stored object is still the one `seen` (both absent, or the same version).
fn unchanged(seen: Option<&Value>, now: Option<&Value>) -> bool {
    match (seen, now) {
        (None, None) => true,
        (Some(seen), Some(now)) => resource_version(seen) == resource_version(now),
        _ => false,
    }
}

impl DemoWriter {
    /// `read_only` (`--readonly`): every write is refused.
    pub fn new(store: RuleStore, read_only: bool) -> Self {
        DemoWriter { store, read_only }
    }

    /// The store it writes.
    pub fn store(&self) -> &RuleStore {
        &self.store
    }

    /// The demo has no RBAC: anyone may write, unless meshtui runs read-only.
    pub fn check_access(&self, _namespace: &str) -> Result<(), WriteError> {
        if self.read_only {
            return Err(WriteError::ReadOnly);
        }
        Ok(())
    }

    /// Renders the rule against the stored objects and dry-runs it: `after` is what the
    /// store would hold. Refused when read-only, as every command is.
    pub fn preview(&self, request: &RuleRequest) -> Result<Preview, WriteError> {
        if self.read_only {
            return Err(WriteError::ReadOnly);
        }
        let store = self.store.lock();
        let virtual_services = store.list("VirtualService");
        let destination_rules = store.list("DestinationRule");
        let changes = render(
            &request.target,
            &request.versions,
            &request.change,
            Existing {
                virtual_services: &virtual_services,
                destination_rules: &destination_rules,
            },
        );
        for change in &changes {
            if let ObjectChange::Apply(object) = change {
                if object["kind"] == "Telemetry" {
                    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
                    let name = object["metadata"]["name"].as_str().unwrap_or_default();
                    let others: Vec<_> = store
                        .list("Telemetry")
                        .into_iter()
                        .filter(|t| t["metadata"]["namespace"] == namespace)
                        .collect();
                    if let Some(why) = second_namespace_wide(name, &others) {
                        return Err(WriteError::Failed(why));
                    }
                }
            }
        }
        // The dry-run: the same writes, on a copy that is then dropped.
        let mut scratch = store.clone();
        let mut objects = Vec::with_capacity(changes.len());
        for change in changes {
            let key = key_of(&change);
            let before = store.get(&key).cloned();
            let after = match &change {
                ObjectChange::Apply(desired) => Some(as_dry_run(
                    scratch.apply(desired, FIELD_MANAGER),
                    before.as_ref(),
                )),
                ObjectChange::Delete { .. } if before.is_none() => {
                    return Err(WriteError::NotFound {
                        object: key.to_string(),
                    })
                }
                ObjectChange::Delete { .. } => None,
            };
            objects.push(PlannedObject {
                change,
                before,
                after,
            });
        }
        check_planned(&store, &objects, &request.target.namespace)?;
        Ok(Preview {
            request: request.clone(),
            objects,
        })
    }

    /// Writes what the preview showed, unless an object changed since; all or nothing.
    /// There are no other field managers in the demo, so `force` changes nothing.
    pub fn apply(&self, preview: &Preview) -> Result<Applied, WriteError> {
        if self.read_only {
            return Err(WriteError::ReadOnly);
        }
        let mut store = self.store.lock();
        for planned in &preview.objects {
            let key = key_of(&planned.change);
            if !unchanged(planned.before.as_ref(), store.get(&key)) {
                return Err(WriteError::Changed {
                    object: key.to_string(),
                });
            }
        }
        check_planned(&store, &preview.objects, &preview.request.target.namespace)?;
        let mut objects = Vec::with_capacity(preview.objects.len());
        for planned in &preview.objects {
            let after = match &planned.change {
                ObjectChange::Apply(desired) => Some(store.apply(desired, FIELD_MANAGER)),
                ObjectChange::Delete { .. } => {
                    store.delete(&key_of(&planned.change));
                    None
                }
            };
            objects.push(PlannedObject {
                change: planned.change.clone(),
                before: planned.before.clone(),
                after,
            });
        }
        Ok(Applied { objects })
    }

    /// Puts back every object an apply changed as it was before, deletes what it created
    /// and makes again what it deleted; refused, with nothing written, when any of them
    /// changed since the apply. An object put back as it was by a later undo counts as
    /// unchanged, so applies can be undone one after the other, newest first.
    pub fn undo(&self, applied: &Applied) -> Result<(), WriteError> {
        if self.read_only {
            return Err(WriteError::ReadOnly);
        }
        let mut store = self.store.lock();
        for object in &applied.objects {
            let key = key_of(&object.change);
            let current = store.get(&key);
            match (&object.before, &object.after, current) {
                // Created, and already gone: nothing to undo.
                (None, Some(_), None) | (None, None, _) => {}
                (Some(_), Some(_), None) => {
                    return Err(WriteError::NotFound {
                        object: key.to_string(),
                    })
                }
                (_, Some(after), Some(current)) if same_content(after, current) => {}
                (Some(_), None, None) => {}
                _ => {
                    return Err(WriteError::Changed {
                        object: key.to_string(),
                    })
                }
            }
        }
        for object in applied.objects.iter().rev() {
            let key = key_of(&object.change);
            match &object.before {
                Some(before) => {
                    store.restore(before);
                }
                None => {
                    store.delete(&key);
                }
            }
        }
        Ok(())
    }

    /// The answer to one command.
    pub fn answer(&self, command: WriteCommand) -> WriteEvent {
        match command {
            WriteCommand::CheckAccess { id, namespace } => WriteEvent::Access {
                id,
                result: self.check_access(&namespace),
            },
            WriteCommand::Preview { id, request } => WriteEvent::Previewed {
                id,
                result: self.preview(&request),
            },
            WriteCommand::Apply { id, preview, .. } => WriteEvent::Applied {
                id,
                result: self.apply(&preview),
            },
            WriteCommand::Undo { id, applied } => WriteEvent::Undone {
                id,
                result: self.undo(&applied),
            },
        }
    }
}

/// Whether two versions of an object say the same, the server's metadata aside.
fn same_content(a: &Value, b: &Value) -> bool {
    without_server_fields(a) == without_server_fields(b)
}

/// Checks the objects a change would apply against everything else then stored.
fn check_planned(
    store: &ConfigStore,
    objects: &[PlannedObject],
    namespace: &str,
) -> Result<(), WriteError> {
    let touched: Vec<ObjectKey> = objects.iter().map(|o| key_of(&o.change)).collect();
    let planned: Vec<Value> = objects
        .iter()
        .filter_map(|o| match &o.change {
            ObjectChange::Apply(desired) => Some(desired.clone()),
            ObjectChange::Delete { .. } => None,
        })
        .collect();
    let others: Vec<Value> = ["VirtualService", "DestinationRule"]
        .iter()
        .flat_map(|kind| store.list(kind))
        .filter(|o| !touched.contains(&ObjectKey::of(o)))
        .collect();
    dryrun::check(&planned, &others, &store.inventory(), namespace)
}

/// The failure event for a command whose answer was lost (the worker panicked).
fn failed(command: &WriteCommand, message: &str) -> WriteEvent {
    let error = || WriteError::Failed(message.to_owned());
    match command {
        WriteCommand::CheckAccess { id, .. } => WriteEvent::Access {
            id: *id,
            result: Err(error()),
        },
        WriteCommand::Preview { id, .. } => WriteEvent::Previewed {
            id: *id,
            result: Err(error()),
        },
        WriteCommand::Apply { id, .. } => WriteEvent::Applied {
            id: *id,
            result: Err(error()),
        },
        WriteCommand::Undo { id, .. } => WriteEvent::Undone {
            id: *id,
            result: Err(error()),
        },
    }
}

impl RuleWriter for DemoWriter {
    fn run(
        self: Box<Self>,
        events: mpsc::Sender<WriteEvent>,
        mut commands: mpsc::Receiver<WriteCommand>,
    ) -> SourceTask {
        let writer = Arc::new(*self);
        Box::pin(async move {
            while let Some(command) = commands.recv().await {
                let worker = Arc::clone(&writer);
                let kept = command.clone();
                // Checks read the embedded CRD schemas and run the analyzers: off the
                // runtime that draws the screen.
                let event = tokio::task::spawn_blocking(move || worker.answer(command))
                    .await
                    .unwrap_or_else(|_| failed(&kept, "the demo's writer failed"));
                if events.send(event).await.is_err() {
                    return;
                }
            }
        })
    }
}
