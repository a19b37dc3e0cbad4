//! The Prometheus source end to end: a real Prometheus loaded with the Bookinfo fixture
//! (tests/fixtures/prometheus, see ORIGIN.md) gives the graph the data's ground truth, and a
//! fake Prometheus shows each fault reported in words and recovered from without help.

use std::time::{Duration, Instant};

use meshtui::mesh::{build_graph, GraphOptions, GraphType, Inventory, MeshGraph, ServiceEdge};
use meshtui::source::prometheus::{
    fetch_snapshot, Auth, Endpoint, PrometheusClient, PrometheusSettings, PrometheusSource,
    RefreshSettings,
};
use meshtui::source::{MeshSnapshot, MeshSource, SourceCommand, SourceEvent, SourceHealth};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::support::fake_prometheus::{Behaviour, FakePrometheus, FAKE_RATE_PER_S};
use crate::support::prometheus::{free_loopback_address, RealPrometheus, FIXTURE_END_UNIX_S};

const EXPECTED: &str = include_str!("../fixtures/prometheus/bookinfo-istio.expected.json");
const QUERY_PATH: &str = "/api/v1/query";
/// Guards against a hang, never a measure of speed: a broken source fails instead of
/// blocking the test run.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn settings(url: &str, timeout: Duration) -> PrometheusSettings {
    PrometheusSettings {
        timeout,
        ..PrometheusSettings::new(url.parse().unwrap())
    }
}

/// The fixture's window (`[5m]`, as in expected.json), evaluated where its data ends.
fn replay(namespaces: &[&str]) -> RefreshSettings {
    RefreshSettings {
        window: Duration::from_secs(300),
        interval: Duration::from_secs(5),
        namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
        at_unix_s: Some(FIXTURE_END_UNIX_S),
    }
}

fn workload_graph(snapshot: &MeshSnapshot) -> MeshGraph {
    build_graph(
        &snapshot.samples,
        &snapshot.inventory,
        &GraphOptions::kiali(GraphType::Workload),
    )
}

fn edge<'g>(graph: &'g MeshGraph, from: &str, to: &str) -> &'g ServiceEdge {
    graph
        .edges()
        .find(|(_, a, b, _)| {
            graph.node(*a).is_some_and(|n| n.name == from)
                && graph.node(*b).is_some_and(|n| n.name == to)
        })
        .map(|(_, _, _, edge)| edge)
        .unwrap_or_else(|| panic!("no edge {from} -> {to}"))
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what}: {actual} != {expected}"
    );
}

/// A value of expected.json: query `name`, the series whose labels include `labels`.
fn expected_value(name: &str, labels: &[(&str, &str)]) -> f64 {
    let expected: Value = serde_json::from_str(EXPECTED).unwrap();
    let query = expected["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == name)
        .unwrap_or_else(|| panic!("expected.json has no query {name}"));
    assert!(query["query"].as_str().unwrap().contains("[5m]"));
    query["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| labels.iter().all(|(k, v)| r["metric"][*k] == *v))
        .and_then(|r| r["value"].as_f64())
        .unwrap_or_else(|| panic!("{name} has no series {labels:?}"))
}

#[test]
fn a_real_prometheus_gives_every_edge_the_rates_of_the_data() {
    let prometheus = RealPrometheus::start_with_bookinfo();
    let client =
        PrometheusClient::new(&settings(&prometheus.url(), Duration::from_secs(10)), None).unwrap();
    let started = Instant::now();
    let snapshot = runtime()
        .block_on(fetch_snapshot(&client, &replay(&[]), Inventory::default()))
        .unwrap();
    eprintln!(
        "one refresh (4 queries) against the real Prometheus: {:?}, {} samples",
        started.elapsed(),
        snapshot.samples.len()
    );
    assert_eq!(snapshot.taken_at_unix_s, FIXTURE_END_UNIX_S);
    let graph = workload_graph(&snapshot);

    // (from, to, requests/s, 5xx/s, mTLS share): README.txt's ground truth. A hop both
    // proxies saw counts once; requests only the client's proxy saw (UO, FI) count too.
    let cases = [
        (
            "istio-ingressgateway",
            "productpage-v1",
            10.2,
            0.2,
            Some(1.0),
        ),
        ("unknown", "productpage-v1", 0.2, 0.0, Some(0.0)),
        ("productpage-v1", "details-v1", 10.0, 0.0, Some(1.0)),
        ("productpage-v1", "reviews-v1", 3.4, 0.0, Some(1.0)),
        ("productpage-v1", "reviews-v2", 3.6, 0.4, Some(1.0)),
        ("productpage-v1", "reviews-v3", 3.4, 0.0, Some(1.0)),
        ("reviews-v2", "ratings-v1", 3.2, 0.0, Some(1.0)),
        ("reviews-v3", "ratings-v1", 3.6, 0.2, Some(1.0)),
    ];
    for (from, to, rps, server_errors, mtls) in cases {
        let edge = edge(&graph, from, to);
        let name = format!("{from} -> {to}");
        assert_close(edge.rps(), rps, &format!("{name} requests/s"));
        assert_close(
            edge.requests.server_5xx,
            server_errors,
            &format!("{name} 5xx/s"),
        );
        assert_eq!(edge.mtls_share, mtls, "{name} mTLS share");
    }
    assert_eq!(graph.edge_count(), cases.len());

    // Hops whose client and server buckets are the same requests (one caller, no errors)
    // have the latency PromQL's histogram_quantile gives per destination workload.
    for destination in ["details-v1", "reviews-v1", "reviews-v3"] {
        let latency = edge(&graph, "productpage-v1", destination).latency.unwrap();
        let labels = [("destination_workload", destination)];
        let p50 = expected_value("p50_latency_ms_by_destination_workload", &labels);
        let p99 = expected_value("p99_latency_ms_by_destination_workload", &labels);
        assert_close(latency.p50_ms, p50, &format!("{destination} p50"));
        assert_close(latency.p99_ms, p99, &format!("{destination} p99"));
        assert!(latency.p50_ms < latency.p95_ms && latency.p95_ms < latency.p99_ms);
    }
    let gateway_5xx = expected_value(
        "edge_rps_source",
        &[
            ("source_workload", "istio-ingressgateway"),
            ("response_code", "503"),
        ],
    );
    assert_close(gateway_5xx, 0.2, "expected.json agrees with README.txt");
}

#[test]
fn a_namespace_filter_and_a_replay_time_change_what_prometheus_is_asked() {
    let prometheus = RealPrometheus::start_with_bookinfo();
    let client =
        PrometheusClient::new(&settings(&prometheus.url(), Duration::from_secs(10)), None).unwrap();
    let rt = runtime();

    // Traffic entering `default` from the gateway in istio-system is kept.
    let default_only = rt
        .block_on(fetch_snapshot(
            &client,
            &replay(&["default"]),
            Inventory::default(),
        ))
        .unwrap();
    let graph = workload_graph(&default_only);
    assert_close(
        edge(&graph, "istio-ingressgateway", "productpage-v1").rps(),
        10.2,
        "gateway -> productpage in namespace default",
    );
    assert_eq!(graph.edge_count(), 8);

    let elsewhere = rt
        .block_on(fetch_snapshot(
            &client,
            &replay(&["shop"]),
            Inventory::default(),
        ))
        .unwrap();
    assert!(elsewhere.samples.is_empty(), "{:?}", elsewhere.samples);

    // An hour before the data begins there was no traffic yet.
    let before = RefreshSettings {
        at_unix_s: Some(FIXTURE_END_UNIX_S - 3600.0),
        ..replay(&[])
    };
    let early = rt
        .block_on(fetch_snapshot(&client, &before, Inventory::default()))
        .unwrap();
    assert!(early.samples.is_empty());
    assert_eq!(early.taken_at_unix_s, FIXTURE_END_UNIX_S - 3600.0);
}

#[test]
fn the_running_source_sends_the_real_prometheus_graph_as_its_first_snapshot() {
    let prometheus = RealPrometheus::start_with_bookinfo();
    runtime().block_on(async {
        let client =
            PrometheusClient::new(&settings(&prometheus.url(), Duration::from_secs(10)), None)
                .unwrap();
        let mut running = Running::start(client, replay(&[]));
        let snapshot = running.next_snapshot().await;
        let graph = workload_graph(&snapshot);
        assert_close(
            edge(&graph, "productpage-v1", "reviews-v2").rps(),
            3.6,
            "productpage -> reviews-v2",
        );
        assert_eq!(snapshot.window, Duration::from_secs(300));
    });
}

#[test]
fn latency_percentiles_are_asked_for_once_per_window_while_rates_refresh_every_interval() {
    runtime().block_on(async {
        let fake = FakePrometheus::start(QUERY_PATH, Behaviour::Answer).await;
        let client = PrometheusClient::new(&settings(&fake.url(), HANG_GUARD), None).unwrap();
        let live = RefreshSettings {
            at_unix_s: None,
            window: Duration::from_secs(60),
            ..fast_refresh()
        };
        let mut running = Running::start(client, live);
        for _ in 0..6 {
            assert_fake_snapshot(&running.next_snapshot().await);
        }
        let asked = |metric: &str| {
            fake.requests()
                .iter()
                .filter(|r| r.target.contains(metric))
                .count()
        };
        assert!(
            asked("istio_requests_total") >= 5,
            "{}",
            asked("istio_requests_total")
        );
        assert_eq!(asked("istio_request_duration_milliseconds_bucket"), 1);
        // Asked for by hand, a refresh brings everything.
        running.send(SourceCommand::RefreshNow).await;
        running.until_commands_read().await;
        let deadline = tokio::time::Instant::now() + HANG_GUARD;
        while asked("istio_request_duration_milliseconds_bucket") < 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no percentiles asked for"
            );
            running.next_snapshot().await;
        }
    });
}

#[test]
fn a_failing_percentile_query_is_reported_while_rates_keep_coming_and_clears_by_itself() {
    runtime().block_on(async {
        let fake = FakePrometheus::start(QUERY_PATH, Behaviour::Answer).await;
        fake.fail_queries_containing(Some("istio_request_duration_milliseconds_bucket"));
        let client = PrometheusClient::new(&settings(&fake.url(), HANG_GUARD), None).unwrap();
        let mut running = Running::start(client, fast_refresh());
        let message = loop {
            match running.next_event().await {
                SourceEvent::Snapshot(snapshot) => assert_fake_snapshot(&snapshot),
                SourceEvent::Status(SourceHealth::Failing(message)) => break message,
                SourceEvent::Status(SourceHealth::Ok) => {}
            }
        };
        assert!(
            message.starts_with("latency percentiles: Prometheus at http://127.0.0.1:")
                && message.contains("answered 500"),
            "{message}"
        );
        // Rates still arrive while the percentiles fail.
        assert_fake_snapshot(&running.next_snapshot().await);
        fake.fail_queries_containing(None);
        running.send(SourceCommand::RefreshNow).await;
        // Cleared: snapshots follow one another with no failure told between them.
        let deadline = tokio::time::Instant::now() + HANG_GUARD;
        let mut quiet_snapshots = 0;
        while quiet_snapshots < 3 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the failure never cleared"
            );
            match running.next_event().await {
                SourceEvent::Snapshot(_) => quiet_snapshots += 1,
                SourceEvent::Status(SourceHealth::Failing(_)) => quiet_snapshots = 0,
                SourceEvent::Status(SourceHealth::Ok) => {}
            }
        }
    });
}

#[test]
fn every_snapshot_carries_the_latest_percentiles_of_a_real_prometheus() {
    let prometheus = RealPrometheus::start_with_bookinfo();
    runtime().block_on(async {
        let client =
            PrometheusClient::new(&settings(&prometheus.url(), Duration::from_secs(10)), None)
                .unwrap();
        let mut running = Running::start(client, fast_refresh());
        // Rates and percentiles come in answers of their own; wait for the percentiles.
        let deadline = tokio::time::Instant::now() + HANG_GUARD;
        loop {
            let graph = workload_graph(&running.next_snapshot().await);
            if edge(&graph, "productpage-v1", "reviews-v2")
                .latency
                .is_some()
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no percentiles came"
            );
        }
        // The replay's time does not move, so they are not asked for again, yet stay.
        for _ in 0..3 {
            let graph = workload_graph(&running.next_snapshot().await);
            let reviews = edge(&graph, "productpage-v1", "reviews-v2");
            assert_close(reviews.rps(), 3.6, "productpage -> reviews-v2");
            assert!(reviews.latency.is_some(), "percentiles dropped");
        }
    });
}

/// A source task on the test's runtime, with the channels the runtime would hold.
struct Running {
    events: mpsc::Receiver<SourceEvent>,
    commands: mpsc::Sender<SourceCommand>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn start(client: PrometheusClient, refresh: RefreshSettings) -> Running {
        let source = PrometheusSource::new(client, refresh, None).unwrap();
        let (event_tx, events) = mpsc::channel(16);
        let (commands, command_rx) = mpsc::channel(16);
        let task = tokio::spawn(Box::new(source).run(event_tx, command_rx));
        Running {
            events,
            commands,
            task,
        }
    }

    async fn next_event(&mut self) -> SourceEvent {
        tokio::time::timeout(HANG_GUARD, self.events.recv())
            .await
            .expect("the source sent nothing")
            .expect("the source stopped")
    }

    /// Takes events off the channel until `done` holds.
    async fn settle_until(&mut self, done: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + HANG_GUARD;
        while !done() {
            assert!(tokio::time::Instant::now() < deadline, "never settled");
            let _ = tokio::time::timeout(Duration::from_millis(10), self.events.recv()).await;
        }
    }

    async fn next_snapshot(&mut self) -> MeshSnapshot {
        loop {
            if let SourceEvent::Snapshot(snapshot) = self.next_event().await {
                return *snapshot;
            }
        }
    }

    async fn send(&self, command: SourceCommand) {
        self.commands.send(command).await.unwrap();
    }

    /// Returns once the source has taken every command sent so far off the channel.
    async fn until_commands_read(&self) {
        while self.commands.capacity() < self.commands.max_capacity() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Short enough that recovery comes quickly; the source never stacks refreshes anyway.
fn fast_refresh() -> RefreshSettings {
    RefreshSettings {
        interval: Duration::from_millis(50),
        ..replay(&[])
    }
}

fn assert_fake_snapshot(snapshot: &MeshSnapshot) {
    assert_eq!(snapshot.samples.len(), 1);
    assert_eq!(snapshot.samples[0].value, FAKE_RATE_PER_S);
}

/// The first event is a failure saying `expected`; the source keeps running; once the
/// fake answers well, the next snapshot comes by itself.
async fn fault_is_reported_then_recovered_from(
    fake: &FakePrometheus,
    mut running: Running,
    expected: &str,
) -> String {
    let SourceEvent::Status(SourceHealth::Failing(message)) = running.next_event().await else {
        panic!("the first event is not a failure");
    };
    assert!(message.contains(expected), "{message}");
    assert!(
        !running.task.is_finished(),
        "the source stopped after: {message}"
    );
    fake.set(Behaviour::Answer);
    assert_fake_snapshot(&running.next_snapshot().await);
    message
}

async fn fault_case(behaviour: Behaviour, timeout: Duration, expected: &str) -> String {
    let fake = FakePrometheus::start(QUERY_PATH, behaviour).await;
    let client = PrometheusClient::new(&settings(&fake.url(), timeout), None).unwrap();
    let running = Running::start(client, fast_refresh());
    fault_is_reported_then_recovered_from(&fake, running, expected).await
}

#[test]
fn a_prometheus_that_refuses_connections_is_reported_and_picked_up_when_it_listens() {
    runtime().block_on(async {
        let address = free_loopback_address();
        let url = format!("http://{address}");
        let client = PrometheusClient::new(&settings(&url, Duration::from_secs(5)), None).unwrap();
        let mut running = Running::start(client, fast_refresh());
        let SourceEvent::Status(SourceHealth::Failing(message)) = running.next_event().await else {
            panic!("the first event is not a failure");
        };
        assert_eq!(
            message,
            format!("Prometheus at {url} refused the connection")
        );
        assert!(!running.task.is_finished());
        let _fake = FakePrometheus::start_on(address, QUERY_PATH, Behaviour::Answer).await;
        assert_fake_snapshot(&running.next_snapshot().await);
    });
}

#[test]
fn a_500_answer_is_reported_with_the_start_of_its_page_and_recovered_from() {
    let message = runtime().block_on(fault_case(
        Behaviour::ServerError,
        Duration::from_secs(5),
        "answered 500: <html><body><h1>500 Internal Server Error</h1> upstream",
    ));
    assert!(
        !message.contains('\u{1b}'),
        "escape sequences reach the screen: {message:?}"
    );
}

#[test]
fn an_answer_slower_than_the_timeout_is_reported_and_recovered_from() {
    let message = runtime().block_on(fault_case(
        Behaviour::Slow,
        Duration::from_millis(300),
        "took longer than 300ms",
    ));
    assert!(
        message.starts_with("Prometheus at http://127.0.0.1:"),
        "{message}"
    );
}

#[test]
fn malformed_json_is_reported_and_recovered_from() {
    runtime().block_on(fault_case(
        Behaviour::MalformedJson,
        Duration::from_secs(5),
        "answered with something that is not JSON",
    ));
}

#[test]
fn a_body_cut_short_is_reported_and_recovered_from() {
    runtime().block_on(fault_case(
        Behaviour::Truncated,
        Duration::from_secs(5),
        "broke off",
    ));
}

#[test]
fn refreshes_asked_for_during_a_slow_one_run_once_after_it_never_alongside() {
    runtime().block_on(async {
        let fake = FakePrometheus::start(QUERY_PATH, Behaviour::Slow).await;
        let client = PrometheusClient::new(&settings(&fake.url(), HANG_GUARD), None).unwrap();
        let refresh = RefreshSettings {
            interval: Duration::from_secs(3600),
            ..replay(&[])
        };
        let mut running = Running::start(client, refresh);
        while fake.in_flight() < 4 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for _ in 0..5 {
            running.send(SourceCommand::RefreshNow).await;
        }
        running.until_commands_read().await;
        fake.set(Behaviour::Answer);
        let asked_for_requests = || {
            fake.requests()
                .iter()
                .filter(|r| r.target.contains("istio_requests_total"))
                .count()
        };
        running
            .settle_until(|| fake.in_flight() == 0 && asked_for_requests() == 2)
            .await;
        running.send(SourceCommand::RefreshNow).await;
        running
            .settle_until(|| fake.in_flight() == 0 && asked_for_requests() == 3)
            .await;
        // The interval is an hour: nothing else is asked for.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            asked_for_requests(),
            3,
            "the five asked for during the first ran once"
        );
        assert_eq!(
            fake.max_in_flight(),
            4,
            "one refresh's four queries at most"
        );
    });
}

#[test]
fn pausing_drops_the_refresh_in_flight_and_a_refresh_asked_for_still_runs() {
    runtime().block_on(async {
        let fake = FakePrometheus::start(QUERY_PATH, Behaviour::Slow).await;
        let client = PrometheusClient::new(&settings(&fake.url(), HANG_GUARD), None).unwrap();
        let live = RefreshSettings {
            at_unix_s: None,
            interval: Duration::from_secs(3600),
            ..replay(&[])
        };
        let mut running = Running::start(client, live);
        while fake.in_flight() < 4 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let first_time = query_time(&fake.requests()[0].target);
        running.send(SourceCommand::SetPaused(true)).await;
        while fake.in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        fake.set(Behaviour::Answer);
        running.send(SourceCommand::RefreshNow).await;
        let snapshot = running.next_snapshot().await;
        assert!(
            snapshot.taken_at_unix_s > first_time,
            "the dropped refresh at {first_time} was delivered"
        );
        assert_fake_snapshot(&snapshot);
    });
}

/// The `time=` a request carried.
fn query_time(target: &str) -> f64 {
    target
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("time="))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time= in {target}"))
}

#[test]
fn a_path_prefix_a_bearer_token_and_a_tenant_header_reach_prometheus() {
    runtime().block_on(async {
        let fake = FakePrometheus::start("/prom/api/v1/query", Behaviour::Answer).await;
        let settings = PrometheusSettings {
            auth: Auth::Bearer("s3cret-token".into()),
            headers: vec![("X-Scope-OrgID".into(), "tenant-a".into())],
            ..settings(&format!("{}/prom/", fake.url()), Duration::from_secs(5))
        };
        let client = PrometheusClient::new(&settings, None).unwrap();
        let snapshot = fetch_snapshot(&client, &replay(&[]), Inventory::default())
            .await
            .unwrap();
        assert_fake_snapshot(&snapshot);
        let requests = fake.requests();
        assert_eq!(requests.len(), 4);
        for request in requests {
            assert!(request.target.starts_with("/prom/api/v1/query?query="));
            assert_eq!(query_time(&request.target), FIXTURE_END_UNIX_S);
            assert_eq!(request.header("authorization"), Some("Bearer s3cret-token"));
            assert_eq!(request.header("x-scope-orgid"), Some("tenant-a"));
        }
    });
}

#[test]
fn basic_auth_reaches_prometheus() {
    runtime().block_on(async {
        let fake = FakePrometheus::start(QUERY_PATH, Behaviour::Answer).await;
        let settings = PrometheusSettings {
            auth: Auth::BasicAuth {
                user: "meshtui".into(),
                password: "pa:ss".into(),
            },
            ..settings(&fake.url(), Duration::from_secs(5))
        };
        let client = PrometheusClient::new(&settings, None).unwrap();
        fetch_snapshot(&client, &replay(&[]), Inventory::default())
            .await
            .unwrap();
        // base64("meshtui:pa:ss")
        assert_eq!(
            fake.requests()[0].header("authorization"),
            Some("Basic bWVzaHR1aTpwYTpzcw==")
        );
    });
}

#[test]
fn prometheus_behind_the_kubernetes_service_proxy_is_queried_through_the_api_server() {
    runtime().block_on(async {
        let api_server = FakePrometheus::start(
            "/api/v1/namespaces/istio-system/services/prometheus:9090/proxy/api/v1/query",
            Behaviour::Answer,
        )
        .await;
        let config = kube::Config::new(api_server.url().parse().unwrap());
        let kube = kube::Client::try_from(config).unwrap();
        let endpoint: Endpoint = "kube:istio-system/prometheus:9090".parse().unwrap();
        let settings = PrometheusSettings {
            headers: vec![("X-Scope-OrgID".into(), "tenant-b".into())],
            ..PrometheusSettings::new(endpoint)
        };
        let client = PrometheusClient::new(&settings, Some(kube)).unwrap();
        let snapshot = fetch_snapshot(&client, &replay(&["bookinfo"]), Inventory::default())
            .await
            .unwrap();
        assert_fake_snapshot(&snapshot);
        let requests = api_server.requests();
        assert_eq!(requests.len(), 4);
        for request in &requests {
            assert_eq!(query_time(&request.target), FIXTURE_END_UNIX_S);
            assert_eq!(request.header("x-scope-orgid"), Some("tenant-b"));
        }

        // The API server's own refusal names the service proxy path's target.
        api_server.set(Behaviour::ServerError);
        let error = fetch_snapshot(&client, &replay(&[]), Inventory::default())
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("Prometheus at kube:istio-system/prometheus:9090 answered 500"),
            "{error}"
        );
    });
}

#[test]
fn an_https_prometheus_is_reached_through_the_api_servers_proxy_when_named_https() {
    use crate::support::kube_emulator::{bookinfo_objects, service, KubeEmulator};
    use crate::support::tls::TlsFront;
    runtime().block_on(async {
        let fake = FakePrometheus::start(QUERY_PATH, Behaviour::Answer).await;
        let front = TlsFront::start(fake.address);
        let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
        let mut prometheus = service("istio-system", "prometheus", 9090);
        prometheus["spec"]["ports"][0]["name"] = serde_json::json!("https-web");
        emulator.create(prometheus);
        emulator.route_service("istio-system", "prometheus", front.address);
        let client_for = |endpoint: &str| {
            let settings = PrometheusSettings::new(endpoint.parse().unwrap());
            PrometheusClient::new(&settings, Some(emulator.client())).unwrap()
        };

        let secure = client_for("kube:istio-system/https:prometheus:https-web");
        let snapshot = fetch_snapshot(&secure, &replay(&["bookinfo"]), Inventory::default())
            .await
            .unwrap();
        assert_fake_snapshot(&snapshot);
        assert_eq!(fake.requests().len(), 4, "every query went through TLS");

        // Without the scheme the API server speaks plain HTTP to it, which it refuses.
        let plain = client_for("kube:istio-system/prometheus:https-web");
        let error = fetch_snapshot(&plain, &replay(&[]), Inventory::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("put https: before its name"),
            "the error says what to change: {error}"
        );
    });
}
