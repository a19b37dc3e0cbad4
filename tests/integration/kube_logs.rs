//! Pod logs through the real `kube::Client` against the emulator: the wire format of
//! `GET .../pods/{name}/log` (plain text, timestamps, tail, the API server's refusals),
//! and the access-log follower on top of it: lines appended later arrive, escape
//! sequences never reach the screen, a dropped stream is resumed without repeating lines.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use meshtui::app::navigate::open_pod_log;
use meshtui::app::{update, Msg};
use meshtui::config::ColorChoice;
use meshtui::mesh::access_log::LogLine;
use meshtui::source::kube::{KubeLogFollower, LogSettings};
use meshtui::source::logs::{LogEvent, LogFollower, PodRef};
use meshtui::source::SourceEvent;
use serde_json::json;
use tokio::sync::mpsc;

use crate::support::demo::{config, demo_state};
use crate::support::kube_emulator::KubeEmulator;
use crate::support::screen::{render, text};

const NS: &str = "bookinfo";
const POD: &str = "productpage-v1-6b746f74dc-9stxz";

fn access_line(path: &str, status: u16, flags: &str) -> String {
    format!(
        r#"[2026-11-24T22:00:01.250Z] "GET {path} HTTP/1.1" {status} {flags} via_upstream - "-" 0 1683 12 11 "-" "curl/8.5.0" "3f9c1d2e-8a7b-4c6d-9e0f-1a2b3c4d5e6f" "productpage:9080" "10.244.0.10:9080" inbound|9080|| 127.0.0.6:51234 10.244.0.10:9080 10.244.0.1:40212 outbound_.9080_._.productpage.bookinfo.svc.cluster.local default"#
    )
}

/// A running pod with the app's container and the sidecar, as injection leaves it.
async fn emulator_with_pod() -> KubeEmulator {
    let emulator = KubeEmulator::start().await;
    emulator.create(json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}
    }));
    emulator.create(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": POD, "namespace": NS, "labels": {"app": "productpage", "version": "v1"}},
        "spec": {
            "containers": [
                {"name": "productpage", "image": "docker.io/istio/examples-bookinfo-productpage-v1:1.20.2"},
                {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0"}
            ],
            "initContainers": [{"name": "istio-init", "image": "docker.io/istio/proxyv2:1.22.0"}]
        },
        "status": {"phase": "Running"}
    }));
    emulator
}

fn follower(emulator: &KubeEmulator) -> KubeLogFollower {
    let settings = LogSettings {
        tail_lines: 100,
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
    };
    KubeLogFollower::new(vec![("Kubernetes".into(), emulator.client())], settings)
}

/// The next event, or a failure naming what was awaited.
async fn next(events: &mut mpsc::Receiver<LogEvent>, awaited: &str) -> LogEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap_or_else(|_| panic!("no event while waiting for {awaited}"))
        .unwrap_or_else(|| panic!("the follower stopped while waiting for {awaited}"))
}

/// Lines until `count` have come, skipping other news.
async fn lines(events: &mut mpsc::Receiver<LogEvent>, count: usize) -> Vec<LogLine> {
    let mut got = Vec::new();
    while got.len() < count {
        if let LogEvent::Lines(more) = next(events, &format!("{count} lines")).await {
            got.extend(more);
        }
    }
    got
}

fn path(line: &LogLine) -> String {
    match line {
        LogLine::Access(entry) => entry.path.clone(),
        LogLine::Raw(text) => text.clone(),
    }
}

#[tokio::test]
async fn the_log_endpoint_answers_plain_text_with_timestamps_and_tail_as_the_api_server_does() {
    let emulator = emulator_with_pod().await;
    for i in 0..3 {
        emulator.append_log(NS, POD, "istio-proxy", &format!("line {i}"));
    }
    let pods: Api<Pod> = Api::namespaced(emulator.client(), NS);
    let params = LogParams {
        container: Some("istio-proxy".into()),
        tail_lines: Some(2),
        timestamps: true,
        ..LogParams::default()
    };
    let text = pods.logs(POD, &params).await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, expected) in lines.iter().zip(["line 1", "line 2"]) {
        let (stamp, rest) = line.split_once(' ').unwrap();
        assert_eq!(rest, expected);
        assert!(stamp.ends_with('Z') && stamp.len() <= 30, "{stamp}");
        k8s_openapi::chrono::DateTime::parse_from_rfc3339(stamp).unwrap();
    }
    assert!(emulator.requests().iter().any(|r| r
        .contains("/pods/productpage-v1-6b746f74dc-9stxz/log?")
        && r.contains("container=istio-proxy")
        && r.contains("tailLines=2")
        && r.contains("timestamps=true")));
}

#[tokio::test]
async fn the_log_endpoint_refuses_as_the_api_server_does() {
    let emulator = emulator_with_pod().await;
    let pods: Api<Pod> = Api::namespaced(emulator.client(), NS);
    let error = |result: Result<String, kube::Error>| match result {
        Err(kube::Error::Api(status)) => (status.code, status.reason, status.message),
        other => panic!("expected a Status, got {other:?}"),
    };
    let (code, reason, message) = error(pods.logs(POD, &LogParams::default()).await);
    assert_eq!((code, reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        message,
        format!("a container name must be specified for pod {POD}, choose one of: [productpage istio-proxy] or one of the init containers: [istio-init]")
    );
    let wrong = LogParams {
        container: Some("sidecar".into()),
        ..LogParams::default()
    };
    let (code, _, message) = error(pods.logs(POD, &wrong).await);
    assert_eq!(
        (code, message),
        (400, format!("container sidecar is not valid for pod {POD}"))
    );
    let (code, reason, message) = error(pods.logs("gone-0", &LogParams::default()).await);
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (404, "NotFound", "pods \"gone-0\" not found")
    );
    emulator.forbid_namespace(NS);
    let (code, reason, message) = error(pods.logs(POD, &wrong).await);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert!(
        message.contains("cannot get resource \"pods/log\""),
        "{message}"
    );
}

#[tokio::test]
async fn a_followed_log_brings_later_lines_keeps_escapes_off_the_screen_and_resumes_after_a_drop() {
    let emulator = emulator_with_pod().await;
    emulator.append_log(
        NS,
        POD,
        "istio-proxy",
        &access_line("/productpage", 200, "-"),
    );
    emulator.append_log(NS, POD, "productpage", "the app's own log is not followed");
    let pod = PodRef::proxy("Kubernetes", NS, POD);
    let (sender, mut events) = mpsc::channel(64);
    let task = tokio::spawn(follower(&emulator).follow(pod.clone(), sender));

    assert_eq!(
        next(&mut events, "the connection").await,
        LogEvent::Connected
    );
    let history = lines(&mut events, 1).await;
    assert_eq!(
        history.iter().map(path).collect::<Vec<_>>(),
        ["/productpage"]
    );

    // Lines appended after the follow began arrive, hostile ones among them.
    emulator.append_log(
        NS,
        POD,
        "istio-proxy",
        &access_line("/api/v1/products/1\u{1b}]52;c;cm0gLXJmIH4=\u{7}", 503, "UF"),
    );
    emulator.append_log(
        NS,
        POD,
        "istio-proxy",
        &access_line("/login\u{1b}[2J", 404, "NR"),
    );
    emulator.append_log(
        NS,
        POD,
        "istio-proxy",
        "\u{1b}[31mwarn\u{1b}[0m\tenvoy config\u{9b}2J gone",
    );
    let later = lines(&mut events, 3).await;
    assert_eq!(
        later.iter().map(path).collect::<Vec<_>>(),
        ["/api/v1/products/1", "/login", "warn envoy config gone"]
    );
    for line in &later {
        let debug = format!("{line:?}");
        assert!(
            !debug.contains("\\u{1b}") && !debug.contains("\\u{9b}") && !debug.contains("52;c"),
            "{debug}"
        );
    }

    // The same lines through the app and onto the screen: nothing of the escapes shows.
    // The demo's productpage, with the emulator's pod in place of its own.
    let mut state = demo_state(120, 40);
    let mut snapshot = state.snapshot.clone().unwrap();
    let listed = snapshot
        .inventory
        .pods
        .iter_mut()
        .find(|p| p.workload.as_deref() == Some("productpage-v1"))
        .expect("the demo has a productpage pod");
    listed.name = POD.into();
    update(&mut state, Msg::Source(SourceEvent::Snapshot(snapshot)));
    let id = match open_pod_log(&mut state, &pod).effects.as_slice() {
        [meshtui::app::Effect::FollowLog { id, .. }] => *id,
        other => panic!("opening the log follows it: {other:?}"),
    };
    let all: Vec<LogLine> = history.iter().chain(&later).cloned().collect();
    update(
        &mut state,
        Msg::Log {
            id,
            event: LogEvent::Connected,
        },
    );
    update(
        &mut state,
        Msg::Log {
            id,
            event: LogEvent::Lines(all),
        },
    );
    let screen = text(&render(&state, &config("dark", ColorChoice::TrueColor)));
    assert!(screen.contains("/api/v1/products/1"), "{screen}");
    assert!(screen.contains("warn envoy config gone"), "{screen}");
    assert!(
        !screen.contains('\u{1b}')
            && !screen.contains('\u{9b}')
            && !screen.contains("52;c")
            && !screen.contains("[2J"),
        "{screen}"
    );

    // The stream drops: the follower says so, opens it again from where it was, and
    // neither loses nor repeats a line.
    assert_eq!(emulator.drop_log_streams(), 1);
    match next(&mut events, "the interruption").await {
        LogEvent::Interrupted { reason, .. } => assert!(reason.contains("ended"), "{reason}"),
        other => panic!("expected an interruption, got {other:?}"),
    }
    emulator.append_log(
        NS,
        POD,
        "istio-proxy",
        &access_line("/while-away", 200, "-"),
    );
    assert_eq!(
        next(&mut events, "the reconnection").await,
        LogEvent::Connected
    );
    let resumed = lines(&mut events, 1).await;
    assert_eq!(
        resumed.iter().map(path).collect::<Vec<_>>(),
        ["/while-away"]
    );
    emulator.append_log(NS, POD, "istio-proxy", &access_line("/after", 200, "-"));
    let after = lines(&mut events, 1).await;
    assert_eq!(after.iter().map(path).collect::<Vec<_>>(), ["/after"]);
    let resumed_request = emulator
        .requests()
        .into_iter()
        .filter(|r| r.contains("/log?"))
        .nth(1)
        .unwrap();
    assert!(resumed_request.contains("sinceTime="), "{resumed_request}");

    // Dropping the receiver ends the follow and its connection.
    drop(events);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    for _ in 0..50 {
        if emulator.open_log_streams() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(emulator.open_log_streams(), 0);
}

#[tokio::test]
async fn a_pod_that_is_gone_or_a_refused_log_stops_the_follow_with_the_reason() {
    let emulator = emulator_with_pod().await;
    let cases = [
        (
            "a deleted pod",
            PodRef::proxy("Kubernetes", NS, "gone-0"),
            "not found",
        ),
        (
            "a container the pod lacks",
            PodRef {
                container: "envoy".into(),
                ..PodRef::proxy("Kubernetes", NS, POD)
            },
            "container envoy is not valid",
        ),
    ];
    for (name, pod, reason) in cases {
        let (sender, mut events) = mpsc::channel(8);
        follower(&emulator).follow(pod, sender).await;
        match next(&mut events, name).await {
            LogEvent::Failed(message) => assert!(message.contains(reason), "{name}: {message}"),
            other => panic!("{name}: expected a failure, got {other:?}"),
        }
    }
    emulator.forbid_namespace(NS);
    let (sender, mut events) = mpsc::channel(8);
    follower(&emulator)
        .follow(PodRef::proxy("Kubernetes", NS, POD), sender)
        .await;
    match next(&mut events, "the refusal").await {
        LogEvent::Failed(message) => assert!(
            message.starts_with("not allowed to read the log"),
            "{message}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}
