//! The checks the demo makes before it writes, in the place of the API server's dry-run:
//! Istio's CRD schema (what the server would refuse with 422), then the analyzers'
//! errors (istioctl analyze) about the objects the change touches, against the demo's own
//! Services and pods: a host that does not exist, a subset no DestinationRule defines or
//! that selects no pod, two VirtualServices for one host.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use crate::mesh::inventory::Inventory;
use crate::mesh::rules::analyze::{analyze, AnalyzeOptions, Level};
use crate::mesh::rules::{CrdSchemas, KubeObject, SourcePosition, Violation};
use crate::source::write::WriteError;

use super::store::ObjectKey;

/// The file name given to the objects checked, so that a message's line leads back to
/// the field it is about.
const CHECKED: &str = "planned";

/// Refuses what a real cluster (or istioctl) would: `planned` are the objects to apply,
/// `others` everything else that would then be stored.
pub fn check(
    planned: &[Value],
    others: &[Value],
    inventory: &Inventory,
    namespace: &str,
) -> Result<(), WriteError> {
    for object in planned {
        check_schema(object)?;
    }
    check_semantics(planned, others, inventory, namespace)
}

fn check_schema(object: &Value) -> Result<(), WriteError> {
    let name = ObjectKey::of(object).to_string();
    match CrdSchemas::embedded().validate(object) {
        Ok(verdict) if verdict.violations.is_empty() => Ok(()),
        Ok(verdict) => Err(WriteError::Invalid {
            object: name,
            causes: verdict.violations,
        }),
        Err(error) => Err(WriteError::Invalid {
            object: name,
            causes: vec![Violation {
                path: "<root>".into(),
                message: error.to_string(),
            }],
        }),
    }
}

/// Every scalar field's path (as the analyzers write it, `.spec.http[0]…`) on a line of
/// its own, so that each message's line names its field.
fn numbered(value: &Value) -> (SourcePosition, HashMap<usize, String>) {
    fn walk(value: &Value, path: String, lines: &mut HashMap<String, usize>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    walk(child, format!("{path}.{key}"), lines);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, format!("{path}[{i}]"), lines);
                }
            }
            _ => {
                let line = lines.len() + 2;
                lines.insert(path, line);
            }
        }
    }
    let mut field_lines = HashMap::new();
    walk(value, String::new(), &mut field_lines);
    let by_line = field_lines
        .iter()
        .map(|(path, line)| (*line, path.trim_start_matches('.').to_owned()))
        .collect();
    let position = SourcePosition {
        file: CHECKED.into(),
        line: 1,
        field_lines,
    };
    (position, by_line)
}

fn check_semantics(
    planned: &[Value],
    others: &[Value],
    inventory: &Inventory,
    namespace: &str,
) -> Result<(), WriteError> {
    let mut objects = cluster_objects(inventory, namespace);
    objects.extend(others.iter().map(|o| KubeObject::new(o.clone(), None)));
    let mut fields: BTreeMap<ObjectKey, HashMap<usize, String>> = BTreeMap::new();
    for object in planned {
        let (position, by_line) = numbered(object);
        fields.insert(ObjectKey::of(object), by_line);
        objects.push(KubeObject::new(object.clone(), Some(position)));
    }
    let options = AnalyzeOptions {
        builtin_defaults_in: None,
        namespaces: vec![namespace.to_owned()],
        ..AnalyzeOptions::default()
    };
    let mut refused: BTreeMap<ObjectKey, Vec<Violation>> = BTreeMap::new();
    for message in analyze(objects, &options) {
        if !message.level().at_least(Level::Error) {
            continue;
        }
        let key = ObjectKey {
            kind: message.resource.kind.clone(),
            namespace: message.resource.namespace.clone(),
            name: message.resource.name.clone(),
        };
        let Some(by_line) = fields.get(&key) else {
            continue;
        };
        let line = message
            .resource
            .reference
            .as_deref()
            .and_then(|r| r.rsplit_once(':'))
            .and_then(|(_, line)| line.parse::<usize>().ok());
        let path = line
            .and_then(|line| by_line.get(&line))
            .cloned()
            .unwrap_or_else(|| "spec".into());
        refused.entry(key).or_default().push(Violation {
            path,
            message: format!("{} {}", message.code(), message.text),
        });
    }
    match refused.into_iter().next() {
        Some((key, causes)) => Err(WriteError::Invalid {
            object: key.to_string(),
            causes,
        }),
        None => Ok(()),
    }
}

/// The demo's Services (one HTTP port, as Bookinfo's), ServiceEntries and, in the rule's
/// namespace, pods, as the analyzers read them from a cluster.
fn cluster_objects(inventory: &Inventory, namespace: &str) -> Vec<KubeObject> {
    let mut objects = Vec::new();
    for service in &inventory.services {
        let object = if service.external {
            json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                   "metadata": {"name": service.name, "namespace": service.namespace},
                   "spec": {"hosts": [service.host], "location": "MESH_EXTERNAL",
                            "ports": [{"number": 443, "name": "https", "protocol": "TLS"}]}})
        } else {
            json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": service.name, "namespace": service.namespace},
                   "spec": {"selector": {"app": service.name},
                            "ports": [{"name": "http", "port": 9080}]}})
        };
        objects.push(KubeObject::new(object, None));
    }
    for pod in inventory.pods.iter().filter(|p| p.namespace == namespace) {
        let mut labels = serde_json::Map::new();
        if let Some(app) = &pod.app {
            labels.insert("app".into(), json!(app));
        }
        if let Some(version) = &pod.version {
            labels.insert("version".into(), json!(version));
        }
        let object = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": labels},
            "spec": {"containers": [{"name": "app"}]}});
        objects.push(KubeObject::new(object, None));
    }
    objects
}
