//! The demo's `/metrics` endpoint over real HTTP: what a Prometheus scraping it would read.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use meshtui::source::demo::{DemoOptions, DemoSource};
use meshtui::source::{MeshSource, SourceEvent};
use tokio::sync::mpsc;

/// One sample line: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses `name{label="value",...} number` as the text format 0.0.4 writes it.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let (name, rest) = line
        .split_once('{')
        .ok_or_else(|| format!("no labels in {line:?}"))?;
    let mut labels = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        let label: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next() != Some('"') {
            return Err(format!("label {label} has no quoted value in {line:?}"));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c @ ('\\' | '"')) => value.push(c),
                    other => return Err(format!("bad escape {other:?} in {line:?}")),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => return Err(format!("unterminated value in {line:?}")),
            }
        }
        if labels.insert(label.clone(), value).is_some() {
            return Err(format!("label {label} twice in {line:?}"));
        }
        match chars.next() {
            Some(',') => continue,
            Some('}') => break,
            other => return Err(format!("unexpected {other:?} after a label in {line:?}")),
        }
    }
    let tail: String = chars.collect();
    let number = tail
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before the value in {line:?}"))?;
    let value = number
        .parse::<f64>()
        .map_err(|e| format!("value {number:?}: {e} in {line:?}"))?;
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn parse_page(page: &str) -> Vec<Sample> {
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| parse_sample(line).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// A series' identity: metric name and labels.
fn key(sample: &Sample) -> String {
    format!("{}{:?}", sample.name, sample.labels)
}

async fn get(client: &reqwest::Client, addr: SocketAddr, path: &str) -> reqwest::Response {
    client
        .get(format!("http://{addr}{path}"))
        .send()
        .await
        .expect("the exporter answers")
}

async fn next_snapshot(events: &mut mpsc::Receiver<SourceEvent>) {
    match events.recv().await.expect("the demo keeps sending") {
        SourceEvent::Snapshot(_) => {}
        SourceEvent::Status(status) => panic!("the demo reported {status:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_growing_istio_counters_on_metrics() {
    let options = DemoOptions {
        tick: Duration::from_millis(20),
        serve_metrics: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..DemoOptions::default()
    };
    let source = DemoSource::bind(options).expect("a free port on loopback");
    let addr = source.metrics_addr().expect("bound before running");
    assert_ne!(addr.port(), 0, "the real port is reported");
    // One slot: the demo cannot run more than two steps ahead of the snapshots taken here.
    let (events_tx, mut events) = mpsc::channel(1);
    let (_commands, commands_rx) = mpsc::channel(1);
    let task = tokio::spawn(Box::new(source).run(events_tx, commands_rx));
    next_snapshot(&mut events).await;
    // reqwest refuses to build a client without a rustls provider, even for plain http;
    // another test may have installed it already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();

    let first = get(&client, addr, "/metrics").await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let first_page = first.text().await.expect("a text body");
    // Published before each snapshot is sent: three snapshots on, /metrics is a step newer.
    for _ in 0..3 {
        next_snapshot(&mut events).await;
    }
    let second_page = get(&client, addr, "/metrics")
        .await
        .text()
        .await
        .expect("a text body");

    let before = parse_page(&first_page);
    let after = parse_page(&second_page);
    assert!(before.len() > 100, "only {} samples", before.len());

    let after_by_key: HashMap<String, f64> = after.iter().map(|s| (key(s), s.value)).collect();
    for sample in &before {
        let later = after_by_key.get(&key(sample)).copied();
        assert!(
            later.is_some_and(|v| v >= sample.value),
            "{} fell from {} to {later:?}",
            key(sample),
            sample.value
        );
    }
    let total = |samples: &[Sample]| -> f64 {
        samples
            .iter()
            .filter(|s| s.name == "istio_requests_total")
            .map(|s| s.value)
            .sum()
    };
    assert!(total(&after) > total(&before), "no request was counted");

    // Each histogram's +Inf bucket is its count.
    let mut counts = HashMap::new();
    let mut inf_buckets = HashMap::new();
    for sample in &after {
        let mut labels = sample.labels.clone();
        match sample.name.as_str() {
            "istio_request_duration_milliseconds_count" => {
                counts.insert(format!("{labels:?}"), sample.value);
            }
            "istio_request_duration_milliseconds_bucket"
                if labels.remove("le").as_deref() == Some("+Inf") =>
            {
                inf_buckets.insert(format!("{labels:?}"), sample.value);
            }
            _ => {}
        }
    }
    assert!(!counts.is_empty());
    assert_eq!(counts, inf_buckets);

    // The gateway's hop to productpage, as both of its proxies report it.
    for reporter in ["source", "destination"] {
        assert!(
            after.iter().any(|s| {
                s.name == "istio_requests_total"
                    && s.labels["reporter"] == reporter
                    && s.labels["source_workload"] == "istio-ingressgateway"
                    && s.labels["destination_workload"] == "productpage-v1"
                    && s.labels["destination_service"] == "productpage.bookinfo.svc.cluster.local"
            }),
            "no gateway -> productpage series reported by {reporter}"
        );
    }

    assert_eq!(get(&client, addr, "/").await.status(), 404);
    drop(events);
    task.await.expect("the demo stops when nobody listens");
}

#[test]
fn a_port_in_use_is_refused_when_the_demo_source_is_bound() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port on loopback");
    let addr = taken.local_addr().expect("its address");
    let options = DemoOptions {
        serve_metrics: Some(addr),
        ..DemoOptions::default()
    };
    let error = DemoSource::bind(options).expect_err("the port is taken");
    assert!(
        error.to_string().contains(&addr.to_string()),
        "the error names the address: {error}"
    );
}
