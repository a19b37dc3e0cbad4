//! Kubernetes faults as a user sees them: the binary in tmux, its inventory from the API
//! emulator (through a kubeconfig), its traffic from a fake Prometheus that keeps
//! answering. For each fault the screen must keep answering keys, say what is wrong and
//! how old the data it still shows is, and recover by itself once the API server does.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::support::fake_prometheus::{Behaviour, FakePrometheus};
use crate::support::kube_emulator::{bookinfo_objects, Fault, KubeEmulator};
use crate::support::prometheus::unique_dir;
use crate::support::tmux::{meshtui_binary, Tmux};

/// Enough for the watchers' backoff (up to tens of seconds after a long fault) to come
/// round; every wait ends as soon as the screen shows what it waits for.
const PATIENCE: Duration = Duration::from_secs(90);

/// A cluster with Bookinfo, a Prometheus that answers, and meshtui watching both.
struct Session {
    tmux: Tmux,
    emulator: KubeEmulator,
    // Kept alive: the fake serves from the runtime, the kubeconfig from its file.
    _prometheus: FakePrometheus,
    _kubeconfig: PathBuf,
    runtime: Runtime,
}

impl Session {
    /// `prepare` changes the cluster before meshtui starts.
    fn start(namespaces: Option<&str>, prepare: impl FnOnce(&KubeEmulator)) -> Session {
        let runtime = Runtime::new().unwrap();
        let emulator = runtime.block_on(KubeEmulator::with_objects(bookinfo_objects()));
        prepare(&emulator);
        let prometheus =
            runtime.block_on(FakePrometheus::start("/api/v1/query", Behaviour::Answer));
        let kubeconfig = emulator.write_kubeconfig(&unique_dir("kube-tui"));
        let tmux = Tmux::start(120, 40);
        let namespaces = namespaces
            .map(|n| format!(" --namespace {n}"))
            .unwrap_or_default();
        tmux.type_line(&format!(
            "KUBECONFIG={} {} --prometheus {} --every 1s --timeout 2s{namespaces}",
            kubeconfig.display(),
            meshtui_binary().display(),
            prometheus.url()
        ));
        tmux.wait_for("the graph", PATIENCE, |s| {
            s.contains("productpage") && s.contains("reviews")
        });
        Session {
            tmux,
            emulator,
            _prometheus: prometheus,
            _kubeconfig: kubeconfig,
            runtime,
        }
    }

    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.tmux.wait_for(what, PATIENCE, ready)
    }

    /// The help overlay opens and closes: the screen still answers keys.
    fn assert_keys_work(&self) {
        self.tmux.keys(&["?"]);
        self.wait_for("the help overlay", |s| s.contains("Quit meshtui"));
        self.tmux.keys(&["Escape"]);
        self.wait_for("the help to close", |s| !s.contains("Quit meshtui"));
    }

    /// Presses the namespace filter key until it offers `wanted` (the namespaces it
    /// cycles through are those of the last inventory on screen), then clears it.
    fn cycle_to_namespace(&self, wanted: &str) {
        let started = Instant::now();
        loop {
            let before = namespace_filter(&self.tmux.screen());
            self.tmux.keys(&["n"]);
            let screen = self.wait_for("the namespace filter to move", |s| {
                namespace_filter(s) != before
            });
            if namespace_filter(&screen).as_deref() == Some(wanted) {
                self.tmux.keys(&["Escape"]);
                self.wait_for("the filter cleared", |s| {
                    namespace_filter(s).as_deref() == Some("all")
                });
                return;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the namespace filter never offered {wanted}; the screen shows:\n{screen}"
            );
        }
    }

    fn quit(self) {
        self.tmux.keys(&["q"]);
        self.wait_for("meshtui to exit", |_| self.tmux.current_command() == "sh");
        drop(self.emulator);
        drop(self.runtime);
    }
}

/// The status bar: the last line with text.
fn status_bar(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// The namespace the filter shows in the status bar (`ns all`, `ns bookinfo`).
fn namespace_filter(screen: &str) -> Option<String> {
    let status = status_bar(screen);
    let at = status.find(" ns ")?;
    status[at + 4..]
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

/// The status bar dates the inventory it still shows, and the age has moved on from 0s.
fn inventory_dated(screen: &str) -> bool {
    let status = status_bar(screen);
    status.contains("inventory ") && status.contains(" old") && !status.contains("inventory 0s")
}

fn namespace(name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

#[test]
fn with_the_api_server_down_the_tui_keeps_the_inventory_dates_it_and_recovers() {
    let session = Session::start(None, |_| {});
    session.emulator.go_down();
    let screen = session.wait_for("the outage", |s| {
        s.contains("cannot reach the API server") && inventory_dated(s)
    });
    assert!(
        screen.contains("productpage"),
        "the last graph stays:\n{screen}"
    );
    assert!(
        status_bar(&screen).contains("updated"),
        "with the traffic's age:\n{screen}"
    );
    session.assert_keys_work();

    // What changed while the API server could not be reached shows once it is back.
    session
        .emulator
        .create(namespace("created-during-the-outage"));
    session.runtime.block_on(session.emulator.come_back());
    session.wait_for("the recovery", |s| {
        !s.contains("cannot reach the API server") && !status_bar(s).contains("inventory ")
    });
    session.cycle_to_namespace("created-during-the-outage");
    session.quit();
}

#[test]
fn a_namespace_the_user_may_not_read_is_marked_until_access_is_given() {
    let session = Session::start(Some("bookinfo,legacy"), |emulator| {
        emulator.forbid_namespace("legacy");
    });
    let screen = session.wait_for("legacy marked", |s| {
        status_bar(s).contains("no access: legacy")
    });
    assert!(
        screen.contains("productpage") && screen.contains("reviews"),
        "the readable namespace is drawn:\n{screen}"
    );
    assert!(
        !screen.contains("Kubernetes:"),
        "a namespace out of reach is not a failure of the source:\n{screen}"
    );
    session.assert_keys_work();

    session.emulator.allow_namespace("legacy");
    session.wait_for("the mark gone", |s| !status_bar(s).contains("no access"));
    session.quit();
}

#[test]
fn dropped_watches_resume_by_themselves_and_a_failing_rewatch_is_shown_until_it_passes() {
    let session = Session::start(None, |_| {});

    // A watch the server ends (its timeout, a load balancer) is picked up again quietly.
    session.emulator.drop_watches();
    session.emulator.create(namespace("after-the-drop"));
    session.cycle_to_namespace("after-the-drop");
    assert!(
        !session.tmux.screen().contains("Kubernetes:"),
        "a dropped watch is no failure:\n{}",
        session.tmux.screen()
    );

    // The watches are dropped and the API server fails the new ones.
    session.emulator.fail_requests(Some(Fault::InternalError(
        "etcdserver: request timed out".into(),
    )));
    session.emulator.drop_watches();
    let screen = session.wait_for("the failing re-watch", |s| {
        s.contains("etcdserver: request timed out") && inventory_dated(s)
    });
    assert!(
        screen.contains("productpage"),
        "the last graph stays:\n{screen}"
    );
    session.assert_keys_work();

    session.emulator.fail_requests(None);
    session.wait_for("the recovery", |s| {
        !s.contains("etcdserver") && !status_bar(s).contains("inventory ")
    });
    session.emulator.create(namespace("after-the-failure"));
    session.cycle_to_namespace("after-the-failure");
    session.quit();
}
