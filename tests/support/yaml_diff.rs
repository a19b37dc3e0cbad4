//! Objects as block YAML and a line diff between two of them, as a user reads a preview:
//! `-` for lines only before, `+` for lines only after.

use serde_json::Value;

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() || s.parse::<f64>().is_ok() || s.contains(": ") => {
            format!("{s:?}")
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write(value: &Value, indent: usize, lines: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match child {
                    Value::Object(m) if !m.is_empty() => {
                        lines.push(format!("{pad}{key}:"));
                        write(child, indent + 2, lines);
                    }
                    Value::Array(items) if !items.is_empty() => {
                        lines.push(format!("{pad}{key}:"));
                        write(child, indent, lines);
                    }
                    Value::Object(_) => lines.push(format!("{pad}{key}: {{}}")),
                    Value::Array(_) => lines.push(format!("{pad}{key}: []")),
                    _ => lines.push(format!("{pad}{key}: {}", scalar(child))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let mut inner = Vec::new();
                write(item, indent + 2, &mut inner);
                if !item.is_object() && !item.is_array() {
                    lines.push(format!("{pad}- {}", scalar(item)));
                    continue;
                }
                for (i, line) in inner.into_iter().enumerate() {
                    if i == 0 {
                        lines.push(format!("{pad}- {}", line.trim_start()));
                    } else {
                        lines.push(line);
                    }
                }
            }
        }
        other => lines.push(format!("{pad}{}", scalar(other))),
    }
}

pub fn to_yaml(value: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    write(value, 0, &mut lines);
    lines
}

/// The changed lines between `before` and `after` (either may be absent), in order, by
/// the longest common subsequence of lines.
pub fn yaml_diff(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let a = before.map(to_yaml).unwrap_or_default();
    let b = after.map(to_yaml).unwrap_or_default();
    let mut common = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut diff) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || common[i + 1][j] >= common[i][j + 1]) {
            diff.push(format!("-{}", a[i]));
            i += 1;
        } else {
            diff.push(format!("+{}", b[j]));
            j += 1;
        }
    }
    diff
}
