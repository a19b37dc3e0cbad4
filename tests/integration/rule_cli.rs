//! `meshtui rule …` through the real binary against the Kubernetes API emulator: the
//! objects stored after an apply, nothing stored by a dry run, input refused before
//! anything is sent, a 409 that names its owners and `--force`, `-o yaml`, `--readonly`,
//! and the exit statuses README lists.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::{json, Value};

use meshtui::mesh::rules::parse_objects;

use crate::support::kube_emulator::{bookinfo_objects, KubeEmulator};
use crate::support::prometheus::unique_dir;
use crate::support::tmux::meshtui_binary;

const REVIEWS: &str = "reviews.bookinfo.svc.cluster.local";

/// The emulator, served by a runtime of its own while the binary runs in the test's thread.
struct Cluster {
    emulator: KubeEmulator,
    kubeconfig: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Cluster {
    fn bookinfo() -> Self {
        Self::with_objects(bookinfo_objects())
    }

    fn with_objects(objects: Vec<Value>) -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let emulator = runtime.block_on(KubeEmulator::with_objects(objects));
        let kubeconfig = emulator.write_kubeconfig(&unique_dir("rule-cli"));
        Cluster {
            emulator,
            kubeconfig,
            runtime,
        }
    }

    fn meshtui(&self, args: &[&str]) -> Output {
        run(args, Some(&self.kubeconfig))
    }

    fn stored(&self, kind: &str, name: &str) -> Option<Value> {
        self.emulator
            .object("networking.istio.io/v1", kind, "bookinfo", name)
    }

    /// The requests that could change something, the access reviews left out.
    fn changes(&self) -> Vec<String> {
        self.emulator
            .writes()
            .into_iter()
            .filter(|w| !w.contains("selfsubjectaccessreviews"))
            .collect()
    }
}

fn run(args: &[&str], kubeconfig: Option<&Path>) -> Output {
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

fn route(weights: &[(&str, u32)]) -> Value {
    Value::Array(
        weights
            .iter()
            .map(|(v, w)| json!({"destination": {"host": REVIEWS, "subset": v}, "weight": w}))
            .collect(),
    )
}

fn managers(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_shift_from_the_command_line_prints_the_diff_and_stores_the_split_applied_by_meshtui() {
    let cluster = Cluster::bookinfo();
    let out = cluster.meshtui(&[
        "rule",
        "shift",
        "reviews.bookinfo",
        "--weight",
        "v1=80",
        "--weight",
        "v3=20",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let diff = stdout(&out);
    for line in [
        "--- VirtualService bookinfo/reviews (created)",
        "+kind: VirtualService",
        "+    app.kubernetes.io/managed-by: meshtui",
        "+          weight: 80",
        "+            subset: v3",
        "+          weight: 20",
    ] {
        assert!(diff.lines().any(|l| l == line), "{line} not in\n{diff}");
    }
    assert!(
        stderr(&out).contains("applied Gray release on reviews.bookinfo: 1 object changed"),
        "{}",
        stderr(&out)
    );
    let stored = cluster.stored("VirtualService", "reviews").unwrap();
    assert_eq!(
        stored["spec"],
        json!({"hosts": ["reviews"], "http": [{"name": "meshtui-default", "route": route(&[("v1", 80), ("v3", 20)])}]})
    );
    assert_eq!(managers(&stored), ["meshtui"]);
    assert!(
        cluster
            .changes()
            .iter()
            .any(|w| w.starts_with("PATCH ") && w.contains("fieldManager=meshtui")),
        "server-side apply as meshtui: {:?}",
        cluster.changes()
    );
}

#[test]
fn a_dry_run_previews_with_the_server_and_stores_nothing() {
    let cluster = Cluster::bookinfo();
    let version = cluster.emulator.resource_version();
    let out = cluster.meshtui(&[
        "rule",
        "fault",
        "ratings",
        "-n",
        "bookinfo",
        "--delay",
        "2s",
        "--delay-percent",
        "10",
        "--abort",
        "503",
        "--abort-percent",
        "5",
        "--header",
        "end-user=exact:jason",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let diff = stdout(&out);
    for line in [
        "+          fixedDelay: 2s",
        "+          httpStatus: 503",
        "+              exact: jason",
    ] {
        assert!(diff.lines().any(|l| l == line), "{line} not in\n{diff}");
    }
    assert!(stderr(&out).contains("dry run, nothing written"));
    assert_eq!(cluster.emulator.resource_version(), version);
    assert_eq!(cluster.stored("VirtualService", "ratings"), None);
    let changes = cluster.changes();
    assert!(!changes.is_empty(), "the server was asked for a dry run");
    assert!(
        changes.iter().all(|w| w.contains("dryRun=All")),
        "only dry runs: {changes:?}"
    );
}

#[test]
fn input_the_form_would_refuse_is_refused_by_field_and_nothing_is_sent() {
    let cluster = Cluster::bookinfo();
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &[
                "shift",
                "reviews.bookinfo",
                "--weight",
                "v1=80",
                "--weight",
                "v3=30",
            ],
            &["--weight: the weights add up to 110; they must add up to 100"],
        ),
        (
            &[
                "shift",
                "reviews.bookinfo",
                "--weight",
                "v1=50",
                "--weight",
                "v9=50",
            ],
            &["--weight v9: IST0101", "reviews+v9"],
        ),
        (
            &[
                "fault",
                "ratings.bookinfo",
                "--delay",
                "2x",
                "--delay-percent",
                "150",
            ],
            &["--delay: ", "--delay-percent: "],
        ),
        (
            &[
                "canary",
                "reviews.bookinfo",
                "--every-request",
                "--to",
                "v1",
                "--header",
                "end-user=jason",
                "--to",
                "v2",
            ],
            &["canary rule 1 (the match): IST0130"],
        ),
        (
            &[
                "breaker",
                "reviews.bookinfo",
                "--max-connections=-3",
                "--interval",
                "soon",
            ],
            &["--max-connections: ", "--interval: "],
        ),
    ];
    for (args, says) in cases {
        let args: Vec<&str> = std::iter::once("rule")
            .chain(args.iter().copied())
            .collect();
        let out = cluster.meshtui(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        let error = stderr(&out);
        assert!(error.contains("nothing was sent"), "{args:?}: {error}");
        for text in says {
            assert!(error.contains(text), "{args:?}: {text:?} not in {error}");
        }
        assert_eq!(stdout(&out), "", "{args:?}");
    }
    assert_eq!(cluster.emulator.writes(), Vec::<String>::new());
}

#[test]
fn a_conflict_names_the_owner_and_suggests_force_which_takes_the_fields_over() {
    let cluster = Cluster::bookinfo();
    let first = cluster.meshtui(&[
        "rule",
        "shift",
        "reviews.bookinfo",
        "--weight",
        "v1=80",
        "--weight",
        "v3=20",
    ]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // Someone edits the routes with kubectl: they own them now.
    let resource = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1".into(),
        api_version: "networking.istio.io/v1".into(),
        kind: "VirtualService".into(),
        plural: "virtualservices".into(),
    };
    let mut http = cluster.stored("VirtualService", "reviews").unwrap()["spec"]["http"].clone();
    http[0]["timeout"] = json!("10s");
    cluster.runtime.block_on(async {
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.emulator.client(), "bookinfo", &resource);
        let params = PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..PatchParams::default()
        };
        api.patch(
            "reviews",
            &params,
            &Patch::Merge(json!({"spec": {"http": http}})),
        )
        .await
        .unwrap();
    });
    let theirs = cluster.stored("VirtualService", "reviews").unwrap();

    let shift = [
        "rule",
        "shift",
        "reviews.bookinfo",
        "--weight",
        "v1=50",
        "--weight",
        "v3=50",
    ];
    let refused = cluster.meshtui(&shift);
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    let error = stderr(&refused);
    assert!(
        error.contains(".spec.http is owned by kubectl-edit") && error.contains("--force"),
        "{error}"
    );
    assert_eq!(cluster.stored("VirtualService", "reviews").unwrap(), theirs);

    let forced: Vec<&str> = shift.iter().copied().chain(["--force"]).collect();
    let out = cluster.meshtui(&forced);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let taken = cluster.stored("VirtualService", "reviews").unwrap();
    assert_eq!(
        taken["spec"]["http"],
        json!([{"name": "meshtui-default", "route": route(&[("v1", 50), ("v3", 50)]), "timeout": "10s"}])
    );
    assert_eq!(managers(&taken), ["meshtui"]);
}

#[test]
fn yaml_output_prints_the_objects_the_server_returned() {
    let cluster = Cluster::bookinfo();
    let args = [
        "rule",
        "timeout",
        "ratings.bookinfo",
        "--request-timeout",
        "2s",
        "--attempts",
        "3",
        "--per-try-timeout",
        "500ms",
        "--retry-on",
        "5xx,reset",
        "-o",
        "yaml",
    ];
    let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
    let previewed = cluster.meshtui(&dry);
    assert_eq!(previewed.status.code(), Some(0), "{}", stderr(&previewed));
    let objects = parse_objects("stdout", &stdout(&previewed)).unwrap();
    assert_eq!(objects.len(), 1, "{}", stdout(&previewed));
    let vs = objects[0].value();
    assert_eq!(vs["kind"], "VirtualService");
    assert_eq!(
        vs["spec"]["http"][0],
        json!({
            "name": "meshtui-default",
            "route": [{"destination": {"host": "ratings.bookinfo.svc.cluster.local"}}],
            "timeout": "2s",
            "retries": {"attempts": 3, "perTryTimeout": "500ms", "retryOn": "5xx,reset"}
        })
    );
    assert_eq!(vs["metadata"].get("managedFields"), None);
    assert_eq!(cluster.stored("VirtualService", "ratings"), None);

    let applied = cluster.meshtui(&args);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let objects = parse_objects("stdout", &stdout(&applied)).unwrap();
    let stored = cluster.stored("VirtualService", "ratings").unwrap();
    assert_eq!(objects[0].value()["spec"], stored["spec"]);
    assert_eq!(
        objects[0].value()["metadata"]["labels"],
        stored["metadata"]["labels"]
    );
}

#[test]
fn canary_rules_breakers_and_a_reset_are_written_as_the_forms_write_them() {
    let cluster = Cluster::bookinfo();
    let canary = cluster.meshtui(&[
        "rule",
        "canary",
        "reviews",
        "-n",
        "bookinfo",
        "--header",
        "end-user=exact:jason",
        "--to",
        "v2",
        "--cookie",
        "user=tester",
        "--to",
        "v3",
        "--weight",
        "v1=100",
    ]);
    assert_eq!(canary.status.code(), Some(0), "{}", stderr(&canary));
    let http = &cluster.stored("VirtualService", "reviews").unwrap()["spec"]["http"];
    let subsets: Vec<&str> = http
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["route"][0]["destination"]["subset"].as_str().unwrap())
        .collect();
    assert_eq!(subsets, ["v2", "v3", "v1"], "in the order typed: {http}");
    assert_eq!(
        http[0]["match"],
        json!([{"headers": {"end-user": {"exact": "jason"}}}])
    );

    let breaker = cluster.meshtui(&[
        "rule",
        "breaker",
        "reviews.bookinfo",
        "--max-connections",
        "100",
        "--consecutive-5xx",
        "5",
        "--interval",
        "10s",
        "--base-ejection",
        "30s",
        "--max-ejection-percent",
        "50",
    ]);
    assert_eq!(breaker.status.code(), Some(0), "{}", stderr(&breaker));
    let policy = &cluster.stored("DestinationRule", "reviews").unwrap()["spec"]["trafficPolicy"];
    assert_eq!(policy["connectionPool"]["tcp"]["maxConnections"], 100);
    assert_eq!(
        policy["outlierDetection"],
        json!({"consecutive5xxErrors": 5, "interval": "10s", "baseEjectionTime": "30s", "maxEjectionPercent": 50})
    );

    let reset = cluster.meshtui(&["rule", "reset", "reviews.bookinfo"]);
    assert_eq!(reset.status.code(), Some(0), "{}", stderr(&reset));
    assert_eq!(cluster.stored("VirtualService", "reviews"), None);
}

#[test]
fn read_only_refuses_after_the_checks_and_sends_no_write() {
    let cluster = Cluster::bookinfo();
    let out = cluster.meshtui(&[
        "--readonly",
        "rule",
        "shift",
        "reviews.bookinfo",
        "--weight",
        "v1=100",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("--readonly"), "{}", stderr(&out));
    assert_eq!(cluster.emulator.writes(), Vec::<String>::new());
}

#[test]
fn without_a_cluster_the_demo_renders_a_dry_run_only() {
    let dry = run(
        &[
            "rule",
            "shift",
            "reviews.bookinfo",
            "--demo",
            "--dry-run",
            "--weight",
            "v1=80",
            "--weight",
            "v3=20",
        ],
        None,
    );
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("+          weight: 80"),
        "{}",
        stdout(&dry)
    );

    let write = run(&["rule", "reset", "reviews.bookinfo", "--demo"], None);
    assert_eq!(write.status.code(), Some(2), "{}", stderr(&write));
    assert!(
        stderr(&write).contains("add --dry-run"),
        "{}",
        stderr(&write)
    );
}

#[test]
fn a_refusal_only_the_server_knows_prints_its_422_message_with_the_field() {
    let cluster = Cluster::bookinfo();
    // The cluster's Istio is stricter than the schema meshtui embeds, and its CRDs may not
    // be read: only the server's dry run can tell.
    let mut crd = cluster
        .emulator
        .object(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "",
            "virtualservices.networking.istio.io",
        )
        .unwrap();
    crd.pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/http/items/properties/timeout/x-kubernetes-validations")
        .unwrap()
        .as_array_mut()
        .unwrap()
        .push(json!({"rule": "duration(self) <= duration('1s')", "message": "must be at most 1s"}));
    cluster.emulator.replace(crd);
    cluster.emulator.forbid_crds();
    let version = cluster.emulator.resource_version();

    let out = cluster.meshtui(&[
        "rule",
        "timeout",
        "reviews.bookinfo",
        "--request-timeout",
        "2s",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("VirtualService bookinfo/reviews is invalid, nothing was written:\n  spec.http[0].timeout: Invalid value: \"string\": must be at most 1s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(cluster.emulator.resource_version(), version);
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_canary_without_weights_keeps_everyone_else_on_the_split_the_cluster_has() {
    let cluster = Cluster::bookinfo();
    let shift = cluster.meshtui(&[
        "rule",
        "shift",
        "reviews.bookinfo",
        "--weight",
        "v1=70",
        "--weight",
        "v2=30",
    ]);
    assert_eq!(shift.status.code(), Some(0), "{}", stderr(&shift));
    let out = cluster.meshtui(&[
        "rule",
        "canary",
        "reviews.bookinfo",
        "--header",
        "end-user=jason",
        "--to",
        "v3",
        "--dry-run",
        "-o",
        "yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let objects = parse_objects("stdout", &stdout(&out)).unwrap();
    let http = &objects[0].value()["spec"]["http"];
    assert_eq!(http[0]["route"][0]["destination"]["subset"], "v3");
    assert_eq!(
        http[1]["route"],
        route(&[("v1", 70), ("v2", 30)]),
        "everyone else as before: {http}"
    );
}

/// Bookinfo with ratings in two versions whose pods carry their version only in
/// `app.kubernetes.io/version` (and, as Istio's injector adds it, the canonical revision).
fn ratings_labelled_by_app_kubernetes_io_version() -> Vec<Value> {
    let mut objects = bookinfo_objects();
    let relabel = |labels: &mut Value| {
        if let Some(map) = labels.as_object_mut() {
            if let Some(version) = map.remove("version") {
                map.insert("app.kubernetes.io/version".into(), version);
            }
        }
    };
    let mut added = Vec::new();
    for object in &mut objects {
        let kind = object["kind"].as_str().unwrap_or_default().to_owned();
        let is_ratings = object["metadata"]["labels"]["app"] == "ratings";
        if !is_ratings || !(kind == "Deployment" || kind == "Pod") {
            continue;
        }
        relabel(&mut object["metadata"]["labels"]);
        if kind == "Deployment" {
            relabel(&mut object["spec"]["selector"]["matchLabels"]);
            relabel(&mut object["spec"]["template"]["metadata"]["labels"]);
        }
        let v2 = object
            .to_string()
            .replace("ratings-v1", "ratings-v2")
            .replace(
                "\"app.kubernetes.io/version\":\"v1\"",
                "\"app.kubernetes.io/version\":\"v2\"",
            )
            .replace(
                "\"service.istio.io/canonical-revision\":\"v1\"",
                "\"service.istio.io/canonical-revision\":\"v2\"",
            );
        added.push(serde_json::from_str(&v2).unwrap());
    }
    objects.extend(added);
    objects
}

#[test]
fn subsets_select_the_label_the_versions_were_read_from() {
    let cluster = Cluster::with_objects(ratings_labelled_by_app_kubernetes_io_version());
    let out = cluster.meshtui(&[
        "rule",
        "shift",
        "ratings.bookinfo",
        "--weight",
        "v1=80",
        "--weight",
        "v2=20",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        cluster.stored("DestinationRule", "ratings").unwrap()["spec"]["subsets"],
        json!([
            {"name": "v1", "labels": {"app.kubernetes.io/version": "v1"}},
            {"name": "v2", "labels": {"app.kubernetes.io/version": "v2"}}
        ])
    );
}
