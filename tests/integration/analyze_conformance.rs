//! istioctl's own analyzer table (tests/fixtures/istio-analyze, see ORIGIN.md): every case
//! runs its one analyzer over its input files plus Istio's built-in resources, and must
//! give exactly the expected multiset of (message type, resource).
//! `MESHTUI_ISTIO_ANALYZE_CASES=DIR` runs another directory of the same shape.

use std::path::PathBuf;

use meshtui::mesh::rules::analyze::{analyze, AnalyzeOptions, Analyzer};
use meshtui::mesh::rules::parse_objects;
use serde_json::Value;

fn cases_dir() -> PathBuf {
    match std::env::var_os("MESHTUI_ISTIO_ANALYZE_CASES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/istio-analyze"
        )),
    }
}

/// `(message type, resource)` pairs, sorted: a multiset to compare.
fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs
}

#[test]
fn every_case_of_istioctls_analyzer_table_gives_the_expected_messages() {
    let dir = cases_dir();
    let table: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json is readable"),
    )
    .expect("expected.json is JSON");
    let cases = table["cases"].as_array().expect("a list of cases");
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let analyzer_name = case["analyzer"].as_str().unwrap();
        let analyzer = Analyzer::from_name(analyzer_name)
            .unwrap_or_else(|| panic!("{name}: no analyzer named {analyzer_name}"));
        let mut objects = Vec::new();
        for input in case["inputs"].as_array().unwrap() {
            let file = input.as_str().unwrap();
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            objects.extend(parse_objects(file, &text).unwrap_or_else(|e| panic!("{name}: {e}")));
        }
        let options = AnalyzeOptions {
            analyzers: vec![analyzer],
            ..AnalyzeOptions::default()
        };
        let messages = analyze(objects, &options);
        let got = sorted(
            messages
                .iter()
                .map(|m| (m.kind.name().to_owned(), m.resource.friendly_name()))
                .collect(),
        );
        let want = sorted(
            case["expected"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["type"].as_str().unwrap().to_owned(),
                        e["resource"].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
        );
        // The code and level printed must be the ones istioctl gives the type.
        for expected in case["expected"].as_array().unwrap() {
            if let Some(m) = messages
                .iter()
                .find(|m| m.kind.name() == expected["type"].as_str().unwrap())
            {
                assert_eq!(m.code(), expected["code"].as_str().unwrap(), "{name}");
                assert_eq!(
                    m.level().name(),
                    expected["level"].as_str().unwrap(),
                    "{name}"
                );
            }
        }
        if got != want {
            let lines: Vec<String> = messages.iter().map(|m| m.render()).collect();
            failures.push(format!(
                "{name} ({analyzer_name}):\n  want {want:?}\n  got  {got:?}\n  {}",
                lines.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
