//! Multi-document YAML manifests into [`KubeObject`]s, each remembering its file, the
//! line its document starts on and the line of every scalar field (istioctl points at
//! the offending field). Bad YAML and documents that are not Kubernetes objects are errors
//! naming file and line; nothing here panics on input.

use std::collections::HashMap;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

use super::object::{KubeObject, SourcePosition};

/// Why a manifest could not be read, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// Every object in `text` (read from `file`), in order. Empty documents are skipped; a
/// `kind: List` (or `*List`) document contributes its `items`.
pub fn parse_objects(file: &str, text: &str) -> Result<Vec<KubeObject>, ParseError> {
    let error = |line: usize, reason: String| ParseError {
        file: file.to_owned(),
        line,
        reason,
    };
    let documents = MarkedYaml::load_from_str(text)
        .map_err(|e| error(e.marker().line(), format!("not valid YAML: {}", e.info())))?;
    let starts = document_starts(text);
    let mut objects = Vec::new();
    for document in &documents {
        let node_line = document.span.start.line();
        if matches!(document.data, YamlData::Value(Scalar::Null)) {
            continue;
        }
        match list_items(document) {
            Some(items) => {
                for item in items {
                    objects.push(to_object(item, file, item.span.start.line())?);
                }
            }
            None => objects.push(to_object(document, file, chunk_start(&starts, node_line))?),
        }
    }
    Ok(objects)
}

/// The items of a `kind: List` (or `*List`) document.
fn list_items<'a, 'i>(document: &'a MarkedYaml<'i>) -> Option<&'a [MarkedYaml<'i>]> {
    let YamlData::Mapping(entries) = &document.data else {
        return None;
    };
    let entry = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| key_text(k).as_deref() == Some(name))
            .map(|(_, v)| v)
    };
    let kind = entry("kind")?;
    let is_list = matches!(&kind.data, YamlData::Value(Scalar::String(k)) if k.ends_with("List"));
    match entry("items") {
        Some(MarkedYaml {
            data: YamlData::Sequence(items),
            ..
        }) if is_list => Some(items),
        _ => None,
    }
}

/// One document as an object, checked to be a Kubernetes object.
fn to_object(node: &MarkedYaml, file: &str, line: usize) -> Result<KubeObject, ParseError> {
    let error = |reason: String| ParseError {
        file: file.to_owned(),
        line: node.span.start.line().max(line),
        reason,
    };
    let YamlData::Mapping(_) = node.data else {
        return Err(error(format!(
            "this document is {}, not a Kubernetes object",
            describe(node)
        )));
    };
    let value = to_json(node).map_err(|(line, reason)| ParseError {
        file: file.to_owned(),
        line,
        reason,
    })?;
    for (field, path) in [
        ("apiVersion", &["apiVersion"][..]),
        ("kind", &["kind"][..]),
        ("metadata.name", &["metadata", "name"][..]),
    ] {
        let found = path.iter().try_fold(&value, |v, key| v.get(*key));
        if found.and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(error(format!(
                "this document has no {field}, so it is not a Kubernetes object"
            )));
        }
    }
    let mut field_lines = HashMap::new();
    collect_field_lines(node, "", &mut field_lines);
    Ok(KubeObject::new(
        value,
        Some(SourcePosition {
            file: file.to_owned(),
            line,
            field_lines,
        }),
    ))
}

fn describe(node: &MarkedYaml) -> &'static str {
    match &node.data {
        YamlData::Sequence(_) => "a list",
        YamlData::Value(Scalar::String(_)) => "a plain string",
        YamlData::Value(_) => "a plain value",
        _ => "not a mapping",
    }
}

/// The line after each `---` separator: where Istio's reader starts a document.
fn document_starts(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("---"))
        .map(|(i, _)| i + 2)
        .collect()
}

fn chunk_start(starts: &[usize], node_line: usize) -> usize {
    starts
        .iter()
        .rev()
        .find(|&&s| s <= node_line)
        .copied()
        .unwrap_or(1)
}

/// The text of a scalar key (JSON keys are strings, as `sigs.k8s.io/yaml` makes them).
fn key_text(key: &MarkedYaml) -> Option<String> {
    match &key.data {
        YamlData::Value(scalar) => Some(scalar_text(scalar)),
        YamlData::Tagged(_, inner) => key_text(inner),
        _ => None,
    }
}

fn scalar_text(scalar: &Scalar) -> String {
    match scalar {
        Scalar::Null => "null".into(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::FloatingPoint(f) => f.to_string(),
        Scalar::String(s) => s.to_string(),
    }
}

fn to_json(node: &MarkedYaml) -> Result<Value, (usize, String)> {
    let line = node.span.start.line();
    match &node.data {
        YamlData::Value(scalar) => Ok(scalar_json(scalar)),
        YamlData::Representation(text, style, tag) => {
            let scalar = Scalar::parse_from_cow_and_metadata(text.clone(), *style, tag.as_ref())
                .ok_or((line, format!("the value {text:?} does not fit its tag")))?;
            Ok(scalar_json(&scalar))
        }
        YamlData::Sequence(items) => items.iter().map(to_json).collect::<Result<_, _>>(),
        YamlData::Mapping(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = key_text(key).ok_or((
                    key.span.start.line(),
                    "a mapping key is a list or a mapping; Kubernetes objects need text keys"
                        .to_owned(),
                ))?;
                map.insert(key, to_json(value)?);
            }
            Ok(Value::Object(map))
        }
        YamlData::Tagged(_, inner) => to_json(inner),
        YamlData::Alias(_) => Err((line, "an alias whose anchor is not defined".into())),
        YamlData::BadValue => Err((line, "a value that cannot be read".into())),
    }
}

fn scalar_json(scalar: &Scalar) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

/// The line of every scalar, by path: `.a.b[0].c` (Istio's field map, without braces).
fn collect_field_lines(node: &MarkedYaml, path: &str, lines: &mut HashMap<String, usize>) {
    match &node.data {
        YamlData::Mapping(entries) => {
            for (key, value) in entries {
                if let Some(key) = key_text(key) {
                    let child = format!("{path}.{key}");
                    record(value, child, lines);
                }
            }
        }
        YamlData::Tagged(_, inner) => collect_field_lines(inner, path, lines),
        _ => {}
    }
}

fn record(value: &MarkedYaml, path: String, lines: &mut HashMap<String, usize>) {
    match &value.data {
        YamlData::Mapping(_) => collect_field_lines(value, &path, lines),
        YamlData::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                record(item, format!("{path}[{i}]"), lines);
            }
        }
        YamlData::Tagged(_, inner) => record(inner, path, lines),
        _ => {
            lines.insert(path, value.span.start.line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: a
---
# comment
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: b
  namespace: shop
spec:
  http:
  - route:
    - destination:
        host: reviews
---
---
";

    #[test]
    fn documents_become_objects_with_their_start_line_and_field_lines() {
        let objects = parse_objects("m.yaml", TWO).unwrap();
        assert_eq!(objects.len(), 2, "the empty documents are skipped");
        assert_eq!(objects[0].source().unwrap().line, 1);
        let vs = &objects[1];
        assert_eq!(vs.full_name(), "shop/b");
        assert_eq!(
            vs.source().unwrap().line,
            6,
            "the document starts after ---"
        );
        assert_eq!(
            vs.field_line(".spec.http[0].route[0].destination.host"),
            Some(16)
        );
        assert_eq!(vs.field_line(".metadata.name"), Some(10));
    }

    #[test]
    fn bad_input_is_an_error_naming_file_and_line() {
        let cases = [
            ("bad indentation", "a: 1\n  b: 2\n", 2, "not valid YAML"),
            ("a list document", "- 1\n- 2\n", 1, "a list"),
            (
                "a plain string after an object",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\nhello\n",
                5,
                "a plain string",
            ),
            (
                "no kind",
                "apiVersion: v1\nmetadata:\n  name: x\n",
                1,
                "no kind",
            ),
            ("duplicate keys", "a: 1\na: 2\n", 2, "not valid YAML"),
        ];
        for (name, text, line, reason) in cases {
            let error = parse_objects("f.yaml", text).expect_err(name);
            assert_eq!(error.line, line, "{name}: {error}");
            assert!(
                error.to_string().starts_with(&format!("f.yaml:{line}: ")),
                "{name}: {error}"
            );
            assert!(error.reason.contains(reason), "{name}: {error}");
        }
    }

    #[test]
    fn a_list_contributes_its_items() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n";
        let objects = parse_objects("l.yaml", text).unwrap();
        let names: Vec<_> = objects.iter().map(KubeObject::name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(objects[1].source().unwrap().line, 7);
    }

    #[test]
    fn scalars_keep_their_json_types_and_anchors_are_expanded() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: &l {x: y}}\nspec:\n  ports: [{port: 80}]\n  ratio: 1.5\n  copy: *l\n  on: yes\n";
        let objects = parse_objects("s.yaml", text).unwrap();
        let spec = objects[0].spec();
        assert_eq!(spec["ports"][0]["port"], 80);
        assert_eq!(spec["ratio"], 1.5);
        assert_eq!(spec["copy"]["x"], "y");
        assert_eq!(spec["on"], "yes", "YAML 1.2: yes is a string");
    }
}
