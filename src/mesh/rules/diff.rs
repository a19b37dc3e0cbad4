//! What a write changes, as a person reads it: objects printed as YAML (saphyr's emitter,
//! which quotes what must be quoted) and a unified diff of the two texts.

use std::borrow::Cow;

use saphyr::{Mapping, Scalar, ScalarStyle, Yaml, YamlEmitter};
use serde_json::Value;

/// Fields the server keeps for itself: they change on every write and say nothing about
/// the routing, so a diff leaves them out.
const SERVER_FIELDS: [&str; 6] = [
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// The object without the fields the server maintains, and without `status`.
pub fn without_server_fields(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_FIELDS {
            metadata.remove(field);
        }
        let no_annotations = metadata
            .get("annotations")
            .and_then(Value::as_object)
            .is_some_and(serde_json::Map::is_empty);
        if no_annotations {
            metadata.remove("annotations");
        }
    }
    object
}

fn to_node(value: &Value) -> Yaml<'_> {
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        // JSON's own text of a number is a YAML number too, and keeps `0.5` as `0.5`.
        Value::Number(n) => {
            Yaml::Representation(Cow::Owned(n.to_string()), ScalarStyle::Plain, None)
        }
        Value::String(s) => Yaml::Value(Scalar::String(Cow::Borrowed(s))),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_node).collect()),
        Value::Object(map) => {
            let mut mapping = Mapping::new();
            for (key, value) in map {
                mapping.insert(
                    Yaml::Value(Scalar::String(Cow::Borrowed(key))),
                    to_node(value),
                );
            }
            Yaml::Mapping(mapping)
        }
    }
}

/// The value as a YAML document, without the `---` the emitter starts with.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    let node = to_node(value);
    if YamlEmitter::new(&mut out).dump(&node).is_err() {
        // Writing into a String cannot fail; JSON is the honest fallback were it to.
        return serde_json::to_string_pretty(value).unwrap_or_default();
    }
    let mut text = out.strip_prefix("---\n").unwrap_or(&out).to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffLine {
    /// `@@ -1,4 +1,5 @@`
    Hunk(String),
    Same(String),
    Removed(String),
    Added(String),
}

impl DiffLine {
    /// The line as `diff -u` prints it.
    pub fn text(&self) -> String {
        match self {
            DiffLine::Hunk(text) => text.clone(),
            DiffLine::Same(text) => format!(" {text}"),
            DiffLine::Removed(text) => format!("-{text}"),
            DiffLine::Added(text) => format!("+{text}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// Past this many cells the longest common subsequence costs too much memory; such texts
/// are shown as all removed, then all added (rule objects are far smaller).
const MAX_TABLE: usize = 4_000_000;

/// The edit from `before` to `after` by longest common subsequence of lines.
fn steps(before: &[&str], after: &[&str]) -> Vec<Step> {
    let (n, m) = (before.len(), after.len());
    if n.saturating_mul(m) > MAX_TABLE {
        return (0..n)
            .map(Step::Removed)
            .chain((0..m).map(Step::Added))
            .collect();
    }
    // lcs[i][j]: the common subsequence's length of before[i..] and after[j..].
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if before[i] == after[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut steps = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && before[i] == after[j] {
            steps.push(Step::Same(i, j));
            i += 1;
            j += 1;
        // Ties remove first, so that a changed line reads `-old` then `+new`.
        } else if j < m && (i == n || lcs[i * width + j + 1] > lcs[(i + 1) * width + j]) {
            steps.push(Step::Added(j));
            j += 1;
        } else {
            steps.push(Step::Removed(i));
            i += 1;
        }
    }
    steps
}

/// A unified diff of two texts with `context` unchanged lines around each change; empty
/// when they are equal.
pub fn unified(before: &str, after: &str, context: usize) -> Vec<DiffLine> {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let steps = steps(&old, &new);
    let changed: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| !matches!(s, Step::Same(..)))
        .map(|(k, _)| k)
        .collect();
    let mut lines = Vec::new();
    let mut k = 0;
    while k < changed.len() {
        // A hunk runs from a change to the last change within 2 × context of the one before.
        let start = changed[k].saturating_sub(context);
        let mut last = changed[k];
        while k + 1 < changed.len() && changed[k + 1] <= last + 2 * context + 1 {
            k += 1;
            last = changed[k];
        }
        let end = (last + context + 1).min(steps.len());
        let hunk = &steps[start..end];
        let (old_start, new_start) = positions_before(&steps, start);
        let old_count = hunk.iter().filter(|s| !matches!(s, Step::Added(_))).count();
        let new_count = hunk
            .iter()
            .filter(|s| !matches!(s, Step::Removed(_)))
            .count();
        lines.push(DiffLine::Hunk(format!(
            "@@ -{} +{} @@",
            range(old_start, old_count),
            range(new_start, new_count)
        )));
        for step in hunk {
            lines.push(match *step {
                Step::Same(i, _) => DiffLine::Same(old[i].to_owned()),
                Step::Removed(i) => DiffLine::Removed(old[i].to_owned()),
                Step::Added(j) => DiffLine::Added(new[j].to_owned()),
            });
        }
        k += 1;
    }
    lines
}

/// Lines of each side before step `at`.
fn positions_before(steps: &[Step], at: usize) -> (usize, usize) {
    steps[..at].iter().fold((0, 0), |(o, n), step| match step {
        Step::Same(..) => (o + 1, n + 1),
        Step::Removed(_) => (o + 1, n),
        Step::Added(_) => (o, n + 1),
    })
}

/// `diff -u`'s range: 1-based start and count; an empty range starts at the line before.
fn range(lines_before: usize, count: usize) -> String {
    match count {
        0 => format!("{lines_before},0"),
        1 => format!("{}", lines_before + 1),
        _ => format!("{},{count}", lines_before + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_print_as_yaml_with_ambiguous_strings_quoted() {
        let object = json!({
            "apiVersion": "networking.istio.io/v1",
            "metadata": {"name": "reviews", "labels": {"version": "1.0", "on": "true"}},
            "spec": {"http": [{"route": [{"weight": 80}], "fault": {"percentage": {"value": 0.5}}}], "hosts": ["*"]}
        });
        assert_eq!(
            to_yaml(&object),
            "apiVersion: networking.istio.io/v1\n\
             metadata:\n  labels:\n    \"on\": \"true\"\n    version: \"1.0\"\n  name: reviews\n\
             spec:\n  hosts:\n    - \"*\"\n  http:\n    - fault:\n        percentage:\n          value: 0.5\n      route:\n        - weight: 80\n"
        );
    }

    #[test]
    fn the_yaml_reads_back_as_the_same_object() {
        let object =
            json!({"a": [1, 2.5, "x: y", "#no", "", null, true], "b": {"c": "multi\nline"}});
        let text = to_yaml(&object);
        let parsed = crate::mesh::rules::yaml::parse_objects(
            "t.yaml",
            &format!(
                "apiVersion: v1\nkind: T\nmetadata: {{name: t}}\nspec:\n{}",
                indent(&text)
            ),
        )
        .unwrap();
        assert_eq!(parsed[0].spec(), &object, "{text}");
    }

    fn indent(text: &str) -> String {
        text.lines().map(|l| format!("  {l}\n")).collect()
    }

    #[test]
    fn a_diff_shows_changed_lines_with_their_context_in_hunks() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let after = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n";
        let text: Vec<String> = unified(before, after, 1)
            .iter()
            .map(DiffLine::text)
            .collect();
        assert_eq!(
            text,
            [
                "@@ -3,3 +3,3 @@",
                " c",
                "-d",
                "+D",
                " e",
                "@@ -10 +10,2 @@",
                " j",
                "+k"
            ]
        );
    }

    #[test]
    fn a_new_object_is_all_added_and_equal_texts_have_no_diff() {
        let text: Vec<String> = unified("", "a\nb\n", 3)
            .iter()
            .map(DiffLine::text)
            .collect();
        assert_eq!(text, ["@@ -0,0 +1,2 @@", "+a", "+b"]);
        assert!(unified("a\nb\n", "a\nb\n", 3).is_empty());
    }

    #[test]
    fn server_maintained_fields_are_left_out_of_a_diff() {
        let object = json!({
            "metadata": {"name": "r", "resourceVersion": "7", "uid": "u", "generation": 2,
                         "managedFields": [{"manager": "meshtui"}], "annotations": {}},
            "spec": {}, "status": {"x": 1}
        });
        assert_eq!(
            without_server_fields(&object),
            json!({"metadata": {"name": "r"}, "spec": {}})
        );
    }
}
