//! The emulator's etcd: objects by resource, namespace and name; one resourceVersion
//! counter for everything; the event history watches replay; the open watches.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;

use hyper::body::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::crds;
use super::managed;
use super::resources::{self, served_versions, IstioApis, ResourceType};
use super::typed::{root_schema, Schema};
use super::wire::{event_line, now_rfc3339, uid};
use super::Fault;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Index into `resources::RESOURCES`.
    pub resource: usize,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

pub struct LoggedEvent {
    pub resource_version: u64,
    pub key: ObjectKey,
    pub event_type: &'static str,
    pub object: Value,
}

/// What a watch asked for.
pub struct WatchFilter {
    pub resource: usize,
    /// The version the watch was opened at: its events carry that `apiVersion`.
    pub version: &'static str,
    pub namespace: Option<String>,
    pub selector: Selector,
}

impl WatchFilter {
    pub fn matches(&self, key: &ObjectKey, object: &Value) -> bool {
        key.resource == self.resource
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == key.namespace)
            && self.selector.matches(object)
    }
}

pub struct OpenWatch {
    pub id: u64,
    pub filter: WatchFilter,
    pub bookmarks: bool,
    pub lines: mpsc::UnboundedSender<Bytes>,
}

/// `fieldSelector` on `metadata.name`/`metadata.namespace` and equality `labelSelector`s.
#[derive(Debug, Default, Clone)]
pub struct Selector {
    pub fields: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
}

impl Selector {
    pub fn parse(field_selector: Option<&str>, label_selector: Option<&str>) -> Self {
        let pairs = |text: Option<&str>| -> Vec<(String, String)> {
            text.unwrap_or("")
                .split(',')
                .filter_map(|term| {
                    let (key, value) = term.split_once('=')?;
                    let key = key.trim_end_matches('=');
                    let value = value.trim_start_matches('=');
                    Some((key.trim().to_owned(), value.trim().to_owned()))
                })
                .collect()
        };
        Selector {
            fields: pairs(field_selector),
            labels: pairs(label_selector),
        }
    }

    pub fn matches(&self, object: &Value) -> bool {
        let metadata = &object["metadata"];
        let fields_match = self.fields.iter().all(|(key, value)| {
            let field = match key.as_str() {
                "metadata.name" => metadata["name"].as_str(),
                "metadata.namespace" => metadata["namespace"].as_str(),
                _ => None,
            };
            field.unwrap_or("") == value
        });
        let labels_match = self
            .labels
            .iter()
            .all(|(key, value)| metadata["labels"][key].as_str() == Some(value));
        fields_match && labels_match
    }
}

#[derive(Default)]
pub struct State {
    pub objects: BTreeMap<ObjectKey, Value>,
    pub resource_version: u64,
    pub log: Vec<LoggedEvent>,
    /// Watches and continue tokens from before this version answer 410 Gone.
    pub oldest_valid_version: u64,
    pub watches: Vec<OpenWatch>,
    pub next_watch_id: u64,
    /// While set, changes are recorded but not sent to open watches (they fell behind).
    pub delivery_paused: bool,
    pub forbidden_namespaces: HashSet<String>,
    /// Namespaces whose objects the user may read but not write.
    pub read_only_namespaces: HashSet<String>,
    /// The user may not read CustomResourceDefinitions (most users may not).
    pub crds_forbidden: bool,
    /// Every request, as `METHOD path?query`, in order.
    pub requests: Vec<String>,
    pub reject_credentials: bool,
    /// Which versions of Istio's CRDs exist.
    pub istio: IstioApis,
    /// While set, every request fails this way.
    pub fault: Option<Fault>,
    /// Where the service proxy sends requests for a Service: (namespace, name) to the
    /// address its endpoints would give.
    pub service_backends: HashMap<(String, String), SocketAddr>,
    /// `host:port` the server listens on, as discovery advertises it.
    pub address: String,
    /// Containers' logs and the follows open on them.
    pub logs: super::logs::LogStore,
    next_uid: u64,
}

/// `object` as served at `version` of its kind: the API server converts Istio's
/// versions by rewriting `apiVersion` alone (their schemas are the same).
pub fn with_type(resource: &ResourceType, version: &str, object: &Value) -> Value {
    let mut object = object.clone();
    object["apiVersion"] = json!(resource.api_version(version));
    object["kind"] = json!(resource.kind);
    object
}

impl State {
    pub fn key_of(object: &Value) -> (usize, &'static ResourceType, ObjectKey) {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let resource = resources::by_kind(api_version, kind)
            .unwrap_or_else(|| panic!("the emulator knows no {api_version} {kind}"));
        let index = resources::RESOURCES
            .iter()
            .position(|r| std::ptr::eq(r, resource))
            .unwrap_or_default();
        let metadata = &object["metadata"];
        let name = metadata["name"]
            .as_str()
            .expect("objects need metadata.name");
        let namespace = if resource.namespaced {
            metadata["namespace"]
                .as_str()
                .expect("namespaced objects need metadata.namespace")
        } else {
            ""
        };
        let key = ObjectKey {
            resource: index,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        (index, resource, key)
    }

    /// A real API server refuses objects of a version it does not serve ("no matches for
    /// kind"); so does the emulator, loudly, since that is a mistake in a test.
    fn assert_served(&self, resource: &ResourceType, object: &Value) {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let version = api_version.rsplit('/').next().unwrap_or_default();
        assert!(
            served_versions(resource, self.istio).contains(&version),
            "the emulator does not serve {api_version} {} ({:?})",
            resource.kind,
            self.istio
        );
    }

    /// Stores a new object with the fields the server sets: uid, creationTimestamp,
    /// resourceVersion, generation (for kinds with a spec generation) and managedFields.
    pub fn create(&mut self, mut object: Value) -> Value {
        let (_, resource, key) = Self::key_of(&object);
        self.assert_served(resource, &object);
        assert!(
            !self.objects.contains_key(&key),
            "{} {}/{} already exists",
            resource.kind,
            key.namespace,
            key.name
        );
        // Seeded objects are owned as `kubectl apply` (client-side) leaves them.
        if object["metadata"].get("managedFields").is_none() {
            let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
            let version = api_version
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let schema = self.schema(resource, &version);
            let entries = managed::update(
                &json!({}),
                &object,
                Schema::new(&schema),
                Vec::new(),
                "kubectl-client-side-apply",
                &api_version,
            );
            object["metadata"]["managedFields"] = managed::encode(&entries);
        }
        self.stamp_new(resource, &mut object);
        self.record("ADDED", key, object)
    }

    /// Sets what the server gives a new object: uid, creationTimestamp and, for kinds
    /// with a spec generation, generation.
    pub fn stamp_new(&mut self, resource: &ResourceType, object: &mut Value) {
        self.next_uid += 1;
        let metadata = &mut object["metadata"];
        metadata["uid"] = json!(uid(self.next_uid));
        metadata["creationTimestamp"] = json!(now_rfc3339());
        // Core objects (pods, services, namespaces) carry no generation on 1.28.
        if !resource.group.is_empty() {
            metadata["generation"] = json!(1);
        }
    }

    /// The CustomResourceDefinition the emulator serves for `resource`, if it is custom.
    pub fn crd(&self, resource: &ResourceType) -> Option<&Value> {
        if !resource.is_custom() {
            return None;
        }
        let index = resources::RESOURCES
            .iter()
            .position(|r| r.kind == "CustomResourceDefinition")?;
        self.objects.get(&ObjectKey {
            resource: index,
            namespace: String::new(),
            name: format!("{}.{}", resource.plural, resource.group),
        })
    }

    /// The schema apply merges `resource` objects of `version` with.
    pub fn schema(&self, resource: &ResourceType, version: &str) -> Value {
        root_schema(
            self.crd(resource)
                .and_then(|crd| crds::version_schema(crd, version)),
        )
    }

    /// Whether RBAC refuses `verb` on `plural` in `namespace` (`None`: at the cluster
    /// scope). A forbidden namespace refuses cluster-wide requests for namespaced kinds too:
    /// RBAC cannot grant "every namespace but one".
    pub fn refuses(
        &self,
        verb: &str,
        plural: &str,
        namespaced: bool,
        namespace: Option<&str>,
    ) -> bool {
        if plural == "customresourcedefinitions" {
            return self.crds_forbidden;
        }
        if !namespaced {
            return false;
        }
        let write = matches!(
            verb,
            "create" | "update" | "patch" | "delete" | "deletecollection"
        );
        match namespace {
            Some(ns) => {
                self.forbidden_namespaces.contains(ns)
                    || (write && self.read_only_namespaces.contains(ns))
            }
            None => {
                !self.forbidden_namespaces.is_empty()
                    || (write && !self.read_only_namespaces.is_empty())
            }
        }
    }

    /// Replaces an object, keeping what the server owns (uid, creation time).
    pub fn replace(&mut self, mut object: Value) -> Value {
        let (_, resource, key) = Self::key_of(&object);
        self.assert_served(resource, &object);
        let old = self
            .objects
            .get(&key)
            .unwrap_or_else(|| {
                panic!(
                    "{} {}/{} does not exist",
                    resource.kind, key.namespace, key.name
                )
            })
            .clone();
        let metadata = &mut object["metadata"];
        for field in ["uid", "creationTimestamp", "managedFields"] {
            if metadata.get(field).is_none() {
                metadata[field] = old["metadata"][field].clone();
            }
        }
        if let Some(generation) = old["metadata"]["generation"].as_i64() {
            let bump = i64::from(old["spec"] != object["spec"]);
            object["metadata"]["generation"] = json!(generation + bump);
        }
        self.record("MODIFIED", key, object)
    }

    pub fn delete(&mut self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Value {
        let probe = json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": namespace}
        });
        let (_, _, key) = Self::key_of(&probe);
        let object = self
            .objects
            .get(&key)
            .unwrap_or_else(|| panic!("{kind} {namespace}/{name} does not exist"))
            .clone();
        self.record("DELETED", key, object)
    }

    /// Gives the change the next resourceVersion, stores it, logs it and tells the open
    /// watches that asked for it.
    pub fn record(&mut self, event_type: &'static str, key: ObjectKey, mut object: Value) -> Value {
        self.resource_version += 1;
        object["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        if event_type == "DELETED" {
            self.objects.remove(&key);
        } else {
            self.objects.insert(key.clone(), object.clone());
        }
        if !self.delivery_paused {
            let resource = &resources::RESOURCES[key.resource];
            self.watches.retain(|watch| {
                if !watch.filter.matches(&key, &object) {
                    return true;
                }
                let served = with_type(resource, watch.filter.version, &object);
                watch.lines.send(event_line(event_type, &served)).is_ok()
            });
        }
        self.log.push(LoggedEvent {
            resource_version: self.resource_version,
            key,
            event_type,
            object: object.clone(),
        });
        object
    }

    /// A BOOKMARK to every open watch that allows them: the current resourceVersion in an
    /// otherwise empty object of the watched kind.
    pub fn bookmark(&mut self) {
        let version = self.resource_version.to_string();
        self.watches.retain(|watch| {
            if !watch.bookmarks {
                return true;
            }
            let resource = &resources::RESOURCES[watch.filter.resource];
            let object = json!({
                "kind": resource.kind,
                "apiVersion": resource.api_version(watch.filter.version),
                "metadata": {"resourceVersion": version, "creationTimestamp": null}
            });
            watch.lines.send(event_line("BOOKMARK", &object)).is_ok()
        });
    }
}
