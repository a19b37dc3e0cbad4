//! The command line as a user meets it: help, version, errors before the terminal is touched.

use std::process::Command;

use crate::support::tmux::meshtui_binary;

#[test]
fn version_and_help_answer_without_a_terminal() {
    let version = Command::new(meshtui_binary())
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("meshtui {}", env!("CARGO_PKG_VERSION"))
    );
    let help = Command::new(meshtui_binary())
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("demo"), "{text}");
    assert!(text.contains("--theme"), "{text}");
}

#[test]
fn a_bad_keymap_file_is_an_error_naming_file_and_line_before_the_terminal_is_touched() {
    let dir = std::env::temp_dir().join(format!("meshtui-cli-keymap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.toml");
    std::fs::write(&file, "[global]\nquit = { keys = [\"q\"], description = \"Quit\" }\nselec_left = { keys = [\"h\"] }\n").unwrap();
    let out = Command::new(meshtui_binary())
        .args(["--keymap", file.to_str().unwrap(), "demo", "--seed", "1"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("broken.toml:3"),
        "names file and line: {stderr}"
    );
    assert!(
        stderr.contains("selec_left"),
        "names the bad action: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing was drawn: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_bad_theme_name_is_refused_with_the_choices() {
    let out = Command::new(meshtui_binary())
        .args(["--theme", "neon", "demo"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("neon") && stderr.contains("dark"),
        "{stderr}"
    );
}

#[test]
fn the_readme_documents_every_action_of_the_default_keymap() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for action in meshtui::app::Action::ALL {
        assert!(
            readme.contains(&format!("`{}`", action.name())),
            "README lists {}",
            action.name()
        );
    }
}

#[test]
fn meshtui_graph_prints_the_demo_graph_as_json_with_every_edge_between_known_nodes() {
    let out = Command::new(meshtui_binary())
        .args(["graph", "--demo", "--seed", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(graph["schema"], "meshtui.graph/v1");
    let nodes = graph["nodes"].as_array().unwrap();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert!(nodes
        .iter()
        .any(|n| n["name"] == "productpage" && n["version"] == "v1"));
    let edges = graph["edges"].as_array().unwrap();
    assert!(!edges.is_empty());
    for edge in edges {
        assert!(ids.contains(&edge["source"].as_str().unwrap()), "{edge}");
        assert!(ids.contains(&edge["target"].as_str().unwrap()), "{edge}");
    }
}

#[test]
fn meshtui_graph_with_idle_nodes_marks_the_services_without_traffic() {
    let idle_ids = |extra: &[&str]| -> Vec<String> {
        let out = Command::new(meshtui_binary())
            .args(["graph", "--demo", "--graph-type", "service"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let graph: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        graph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["idle"] == true)
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(idle_ids(&[]), Vec::<String>::new(), "off by default");
    assert_eq!(
        idle_ids(&["--idle-nodes"]),
        ["svc/Kubernetes/bookinfo/mysqldb"]
    );
}

#[test]
fn meshtui_graph_prints_dot_for_graphviz() {
    let out = Command::new(meshtui_binary())
        .args(["graph", "--demo", "-o", "dot", "--graph-type", "workload"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph mesh {"), "{dot}");
    assert!(dot.contains("reviews-v2"), "workload graph: {dot}");
    assert!(dot.trim_end().ends_with('}'));
}

#[test]
fn a_metrics_port_already_in_use_is_refused_before_the_terminal_is_touched() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = Command::new(meshtui_binary())
        .args(["demo", "--serve-metrics", &address])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&address), "names the address: {stderr}");
    assert!(out.stdout.is_empty(), "nothing was drawn");
}
