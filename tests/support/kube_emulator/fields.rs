//! Sets of field paths, as server-side apply records who owns what: each path is a list of
//! steps written the way `managedFields[].fieldsV1` writes them (`f:spec`, `k:{"name":"v1"}`
//! for a list item by its keys, `v:"x"` for an item of a set, `i:0` by position).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

pub type Path = Vec<String>;

pub fn field(name: &str) -> String {
    format!("f:{name}")
}

pub fn path(steps: &[&str]) -> Path {
    steps.iter().map(|s| field(s)).collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    paths: BTreeSet<Path>,
}

impl FieldSet {
    pub fn insert(&mut self, path: Path) {
        self.paths.insert(path);
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter()
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.union(&other.paths).cloned().collect(),
        }
    }

    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.difference(&other.paths).cloned().collect(),
        }
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.intersection(&other.paths).cloned().collect(),
        }
    }

    /// Without `prefix` and everything under it.
    pub fn without_tree(&self, prefix: &[String]) -> FieldSet {
        FieldSet {
            paths: self
                .paths
                .iter()
                .filter(|p| !p.starts_with(prefix))
                .cloned()
                .collect(),
        }
    }

    /// Whether the set holds `path` or anything under it.
    pub fn touches(&self, path: &[String]) -> bool {
        self.paths.iter().any(|p| p.starts_with(path))
    }

    /// The `fieldsV1` tree: a step per key, `{}` for a member without children, and `.`
    /// marking a member that also has members under it.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = Node::default();
        for path in &self.paths {
            let mut node = &mut root;
            for step in path {
                node = node.children.entry(step.clone()).or_default();
            }
            node.member = true;
        }
        root.to_json()
    }

    pub fn from_fields_v1(tree: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Some(map) = tree.as_object() {
            read_tree(map, &mut Vec::new(), &mut set);
        }
        set
    }
}

#[derive(Default)]
struct Node {
    member: bool,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn to_json(&self) -> Value {
        let mut map: Map<String, Value> = self
            .children
            .iter()
            .map(|(step, child)| (step.clone(), child.to_json()))
            .collect();
        if self.member && !map.is_empty() {
            map.insert(".".into(), json!({}));
        }
        Value::Object(map)
    }
}

fn read_tree(map: &Map<String, Value>, at: &mut Path, set: &mut FieldSet) {
    for (key, child) in map {
        if key == "." {
            set.insert(at.clone());
            continue;
        }
        at.push(key.clone());
        match child.as_object() {
            Some(children) if !children.is_empty() => read_tree(children, at, set),
            _ => set.insert(at.clone()),
        }
        at.pop();
    }
}

/// A path as the API server prints it in conflicts: `.spec.http`, `[name="v1"]` for a
/// keyed item, `[="x"]` for a set item, `[0]` by position.
pub fn describe(path: &[String]) -> String {
    path.iter()
        .map(|step| match step.split_at(2.min(step.len())) {
            ("f:", name) => format!(".{name}"),
            ("k:", keys) => {
                let keys: Map<String, Value> = serde_json::from_str(keys).unwrap_or_default();
                let pairs: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", pairs.join(","))
            }
            ("v:", value) => format!("[={value}]"),
            ("i:", index) => format!("[{index}]"),
            _ => step.clone(),
        })
        .collect()
}
