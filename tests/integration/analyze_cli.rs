//! `meshtui analyze` as a user runs it: istioctl's text and JSON output and exit codes for
//! manifests, clear errors for bad ones, and one read of a live cluster (the emulator).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::support::kube_emulator::{bookinfo_objects, KubeEmulator};
use crate::support::prometheus::unique_dir;
use crate::support::tmux::meshtui_binary;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/istio-analyze/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn meshtui(args: &[&str], kubeconfig: Option<&Path>) -> Output {
    let mut command = Command::new(meshtui_binary());
    command.args(args).env_remove("KUBECONFIG");
    if let Some(file) = kubeconfig {
        command.env("KUBECONFIG", file);
    }
    command.output().expect("run meshtui")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn analyze_prints_istioctls_lines_and_exits_79_on_errors() {
    let file = fixture("virtualservice_destinationrules.yaml");
    let out = meshtui(
        &[
            "analyze",
            "--analyzer",
            "virtualservice.DestinationRuleAnalyzer",
            "-f",
            &file,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(79), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "Error [IST0101] (VirtualService default/reviews-bogussubset {file}:34) Referenced host+subset in destinationrule not found: \"reviews+bogus\"\n\
             Error [IST0101] (VirtualService default/reviews-mirror-bogussubset {file}:76) Referenced mirror+subset in destinationrule not found: \"reviews+bogus\"\n"
        )
    );
    assert!(
        stderr(&out).contains("analyzers found issues"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn analyze_json_is_an_array_of_istioctls_message_objects() {
    let file = fixture("destinationrule-compound-simple-mutual.yaml");
    let out = meshtui(&["analyze", "-o", "json", "-f", &file], None);
    // As istioctl: the JSON output never sets the exit status.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let messages: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let summary: Vec<(String, String, String)> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["code"].as_str().unwrap().to_owned(),
                m["level"].as_str().unwrap().to_owned(),
                m["origin"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let origin = "DestinationRule default/db-mtls".to_owned();
    assert_eq!(
        summary,
        [
            ("IST0128".to_owned(), "Warning".to_owned(), origin.clone()),
            ("IST0129".to_owned(), "Warning".to_owned(), origin.clone()),
            ("IST0174".to_owned(), "Warning".to_owned(), origin),
        ]
    );
    assert_eq!(
        messages[1]["message"],
        "DestinationRule default/db-mtls in namespace default has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: mydbserver.prod.svc.cluster.local at port number:443"
    );
    // The missing caCertificates has no line: the reference is where the document starts.
    assert_eq!(messages[1]["reference"], format!("{file}:1"));
}

#[test]
fn warnings_alone_pass_unless_the_failure_threshold_is_lowered() {
    let file = fixture("destinationrule-simple-port.yaml");
    let passing = meshtui(&["analyze", "-f", &file], None);
    assert_eq!(passing.status.code(), Some(0), "{}", stderr(&passing));
    assert!(
        stdout(&passing).contains("Warning [IST0129]"),
        "{}",
        stdout(&passing)
    );
    let failing = meshtui(
        &["analyze", "--failure-threshold", "warning", "-f", &file],
        None,
    );
    assert_eq!(failing.status.code(), Some(79));
    let quiet = meshtui(
        &["analyze", "--output-threshold", "error", "-f", &file],
        None,
    );
    assert_eq!(stdout(&quiet), "");
    assert!(
        stderr(&quiet).contains("No validation issues found"),
        "{}",
        stderr(&quiet)
    );
}

#[test]
fn manifests_that_do_not_parse_are_reported_with_file_and_line_and_status_65() {
    let dir = unique_dir("analyze-bad");
    let cases = [
        (
            "bad-yaml.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: [x\n",
            5,
        ),
        (
            "not-object.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n- just\n- a list\n",
            5,
        ),
    ];
    for (name, text, line) in cases {
        let file = write(&dir, name, text);
        let out = meshtui(&["analyze", "-f", file.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(65), "{name}: {}", stderr(&out));
        let location = format!("{}:{line}:", file.display());
        assert!(stderr(&out).contains(&location), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("Error(s) adding files"),
            "{name}: {}",
            stderr(&out)
        );
        assert_eq!(stdout(&out), "", "{name}: nothing else to analyze");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_other_manifests_are_analyzed_past_one_that_does_not_parse() {
    let dir = unique_dir("analyze-mixed");
    let bad = write(&dir, "bad.yaml", "kind: [unclosed\n");
    let bad = bad.to_str().unwrap();
    // Warnings only: the unparsed file sets the status.
    let warnings = fixture("destinationrule-simple-port.yaml");
    let out = meshtui(&["analyze", "-f", bad, "-f", &warnings], None);
    assert!(
        stdout(&out).contains("Warning [IST0129]"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("Error(s) adding files"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    // Errors found: they set the status, as istioctl's order has it.
    let errors = fixture("virtualservice_destinationrules.yaml");
    let out = meshtui(&["analyze", "-f", bad, "-f", &errors], None);
    assert!(stdout(&out).contains("Error [IST0101]"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(79), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).ok();
}

fn write_kubeconfig(server: &str) -> PathBuf {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: emulator\n  cluster:\n    server: {server}\n\
         contexts:\n- name: emulator\n  context:\n    cluster: emulator\n    user: tester\n\
         current-context: emulator\nusers:\n- name: tester\n  user:\n    token: test-token\n"
    );
    write(&unique_dir("analyze-kubeconfig"), "config", &text)
}

#[test]
fn without_files_analyze_reads_the_live_cluster_once() {
    let mut objects = bookinfo_objects();
    objects.push(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}]}
    }));
    objects.push(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "ratings", "namespace": "bookinfo"},
        "spec": {"host": "ratings", "subsets": [{"name": "v7", "labels": {"version": "v7"}}]}
    }));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(KubeEmulator::with_objects(objects));
    let kubeconfig = write_kubeconfig(&emulator.url());

    let out = meshtui(&["analyze"], Some(&kubeconfig));
    assert_eq!(out.status.code(), Some(79), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Error [IST0101] (VirtualService bookinfo/reviews) Referenced host+subset in destinationrule not found: \"reviews+v9\"\n\
         Error [IST0173] (DestinationRule bookinfo/ratings) The Subset v7 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).\n"
    );

    let elsewhere = meshtui(&["analyze", "-n", "legacy"], Some(&kubeconfig));
    assert_eq!(elsewhere.status.code(), Some(0), "{}", stderr(&elsewhere));
    assert_eq!(stdout(&elsewhere), "");
    assert!(
        stderr(&elsewhere).contains("No validation issues found when analyzing namespace: legacy"),
        "{}",
        stderr(&elsewhere)
    );
}
