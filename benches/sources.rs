//! Prints issue 3's figures: PromQL queries per refresh at 1, 10 and 100 namespaces; graph
//! build from Prometheus JSON answers for 10k workloads / 50k edges; and, on a real
//! Prometheus holding a synthetic 50-namespace mesh, the server time of meshtui's plan
//! against a per-namespace plan shaped like Kiali's (6 queries per namespace).
//! Run with `cargo bench --bench sources` (part 3 needs Debian's prometheus and promtool).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meshtui::mesh::{build_graph, GraphOptions, GraphType, Inventory};
use meshtui::source::prometheus::query::{plan, PlanOptions, QueryKind};
use meshtui::source::prometheus::samples::SampleDecoder;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn queries_per_refresh() {
    println!("PromQL queries per refresh (meshtui's plan; Kiali's graph sends 6 per namespace):");
    for namespaces in [1, 10, 100] {
        let options = PlanOptions {
            namespaces: (0..namespaces).map(|i| format!("ns-{i}")).collect(),
            window: Duration::from_secs(60),
        };
        println!(
            "  {namespaces:>3} namespaces: {} queries (Kiali: {})",
            plan(&options).unwrap().len(),
            6 * namespaces
        );
    }
}

/// A tiny deterministic PRNG so the synthetic mesh is the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// A hop of the synthetic mesh: workload indices, namespace count fixes their namespace.
struct Hop {
    from: usize,
    to: usize,
    tcp: bool,
}

fn synthetic_hops(workloads: usize, edges: usize, seed: u64) -> Vec<Hop> {
    let mut rng = Rng(seed);
    let mut seen = std::collections::HashSet::new();
    let mut hops = Vec::with_capacity(edges);
    while hops.len() < edges {
        let from = rng.below(workloads);
        let to = rng.below(workloads);
        if from != to && seen.insert((from, to)) {
            hops.push(Hop {
                from,
                to,
                tcp: rng.below(10) == 0,
            });
        }
    }
    hops
}

fn hop_labels(hop: &Hop, namespaces: usize, reporter: &str) -> String {
    let (src_ns, dst_ns) = (hop.from % namespaces, hop.to % namespaces);
    let (src, dst) = (hop.from, hop.to);
    format!(
        "reporter=\"{reporter}\",source_cluster=\"Kubernetes\",source_workload_namespace=\"ns-{src_ns}\",\
         source_workload=\"wl-{src}-v1\",source_app=\"wl-{src}\",source_version=\"v1\",\
         source_canonical_service=\"wl-{src}\",source_canonical_revision=\"v1\",\
         destination_cluster=\"Kubernetes\",destination_workload_namespace=\"ns-{dst_ns}\",\
         destination_workload=\"wl-{dst}-v1\",destination_app=\"wl-{dst}\",destination_version=\"v1\",\
         destination_canonical_service=\"wl-{dst}\",destination_canonical_revision=\"v1\",\
         destination_service=\"wl-{dst}.ns-{dst_ns}.svc.cluster.local\",destination_service_name=\"wl-{dst}\",\
         destination_service_namespace=\"ns-{dst_ns}\",connection_security_policy=\"{}\"",
        if reporter == "destination" { "mutual_tls" } else { "unknown" }
    )
}

/// `a="x",b="y"` (exposition format, no commas in values here) as JSON members.
fn json_labels(labels: &str) -> String {
    labels
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| format!("\"{name}\":{value}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The four answers Prometheus would give meshtui's plan for this mesh, as JSON bodies.
fn answers(hops: &[Hop], namespaces: usize) -> Vec<(QueryKind, String)> {
    let series = |body: &mut String, labels: &str, value: f64| {
        let _ = write!(
            body,
            "{{\"metric\":{{{}}},\"value\":[1795557600,\"{value}\"]}},",
            json_labels(labels)
        );
    };
    let mut requests = String::new();
    let mut latency = String::new();
    let mut tcp = String::new();
    for (i, hop) in hops.iter().enumerate() {
        for reporter in ["source", "destination"] {
            let labels = hop_labels(hop, namespaces, reporter);
            if hop.tcp {
                series(
                    &mut tcp,
                    &format!("{labels},request_protocol=\"tcp\""),
                    1000.0 + i as f64,
                );
                continue;
            }
            let http = format!("{labels},request_protocol=\"http\"");
            series(
                &mut requests,
                &format!("{http},response_code=\"200\",response_flags=\"-\""),
                1.0 + (i % 7) as f64,
            );
            if i % 10 == 0 {
                series(
                    &mut requests,
                    &format!("{http},response_code=\"503\",response_flags=\"-\""),
                    0.1,
                );
            }
            for (quantile, value) in [("0.5", 12.0), ("0.95", 80.0), ("0.99", 150.0)] {
                series(
                    &mut latency,
                    &format!("{http},quantile=\"{quantile}\""),
                    value,
                );
            }
        }
    }
    let wrap = |body: String| {
        format!(
            "{{\"status\":\"success\",\"data\":{{\"resultType\":\"vector\",\"result\":[{}]}}}}",
            body.trim_end_matches(',')
        )
    };
    vec![
        (QueryKind::Requests, wrap(requests)),
        (QueryKind::LatencyQuantiles, wrap(latency)),
        (QueryKind::TcpSentBytes, wrap(tcp.clone())),
        (QueryKind::TcpReceivedBytes, wrap(tcp)),
    ]
}

/// This thread's time on a CPU so far (Linux): on a machine busy with other work, wall
/// time says more about the neighbours than about the code.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Wall and CPU time of `work`.
fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let (start, cpu_start) = (Instant::now(), thread_cpu_time());
    let value = work();
    let cpu = thread_cpu_time()
        .zip(cpu_start)
        .map(|(end, start)| end - start);
    (value, start.elapsed(), cpu)
}

/// `12.3 ms (median of 5; 10.1 ms on the CPU)`.
fn median(wall: &mut [Duration], cpu: &mut [Option<Duration>]) -> String {
    wall.sort();
    cpu.sort();
    let on_cpu = cpu[cpu.len() / 2].map_or(String::new(), |d| format!("; {} on the CPU", ms(d)));
    format!(
        "{} (median of {}{on_cpu})",
        ms(wall[wall.len() / 2]),
        wall.len()
    )
}

fn graph_from_json() {
    let (workloads, edges, namespaces) = (10_000, 50_000, 100);
    let hops = synthetic_hops(workloads, edges, 7);
    let bodies = answers(&hops, namespaces);
    let bytes: usize = bodies.iter().map(|(_, b)| b.len()).sum();
    let (mut decode_times, mut decode_cpu) = (Vec::new(), Vec::new());
    let (mut build_times, mut build_cpu) = (Vec::new(), Vec::new());
    let mut graph = None;
    for _ in 0..5 {
        let (samples, wall, cpu) = timed(|| {
            // As a refresh does.
            let mut decoder = SampleDecoder::new();
            for (kind, body) in &bodies {
                decoder.decode(*kind, body.as_bytes()).unwrap();
            }
            decoder.finish()
        });
        decode_times.push(wall);
        decode_cpu.push(cpu);
        let options = GraphOptions {
            graph_type: GraphType::Workload,
            ..GraphOptions::default()
        };
        let (built, wall, cpu) = timed(|| build_graph(&samples, &Inventory::default(), &options));
        build_times.push(wall);
        build_cpu.push(cpu);
        graph = Some((built, samples.len()));
    }
    let (graph, samples) = graph.unwrap();
    println!(
        "graph from Prometheus JSON answers ({workloads} workloads, {edges} hops, {samples} series, {:.0} MB of JSON):",
        bytes as f64 / 1e6
    );
    let mut total: Vec<Duration> = decode_times
        .iter()
        .zip(&build_times)
        .map(|(a, b)| *a + *b)
        .collect();
    let mut total_cpu: Vec<Option<Duration>> = decode_cpu
        .iter()
        .zip(&build_cpu)
        .map(|(a, b)| Some((*a)? + (*b)?))
        .collect();
    println!(
        "  decode + samples: {}",
        median(&mut decode_times, &mut decode_cpu)
    );
    println!(
        "  graph build: {} -> {} nodes, {} edges",
        median(&mut build_times, &mut build_cpu),
        graph.node_count(),
        graph.edge_count()
    );
    println!("  total: {}", median(&mut total, &mut total_cpu));
}

/// OpenMetrics for a synthetic 50-namespace mesh: per series, `steps` samples 15 s apart.
fn write_openmetrics(path: &Path, hops: &[Hop], namespaces: usize, steps: usize, end: u64) {
    const BOUNDS: [&str; 20] = [
        "0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000",
        "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf",
    ];
    // Share of requests at or under each bound: a median around 20 ms.
    const CDF: [f64; 20] = [
        0.0, 0.0, 0.05, 0.15, 0.55, 0.8, 0.93, 0.98, 0.995, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        1.0, 1.0, 1.0,
    ];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let times: Vec<u64> = (0..steps)
        .map(|i| end - 15 * (steps - 1 - i) as u64)
        .collect();
    let http: Vec<(usize, &Hop)> = hops.iter().enumerate().filter(|(_, h)| !h.tcp).collect();
    writeln!(out, "# TYPE istio_requests counter").unwrap();
    for (i, hop) in &http {
        let rate = 1.0 + (i % 7) as f64;
        for reporter in ["source", "destination"] {
            let labels = hop_labels(hop, namespaces, reporter);
            for (k, t) in times.iter().enumerate() {
                let value = rate * 15.0 * (100 + k) as f64;
                writeln!(out, "istio_requests_total{{{labels},request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"}} {value} {t}").unwrap();
            }
        }
    }
    writeln!(out, "# TYPE istio_request_duration_milliseconds histogram").unwrap();
    for (i, hop) in &http {
        let rate = 1.0 + (i % 7) as f64;
        for reporter in ["source", "destination"] {
            let labels = format!(
                "{},request_protocol=\"http\",response_code=\"200\",response_flags=\"-\"",
                hop_labels(hop, namespaces, reporter)
            );
            for (bound, share) in BOUNDS.iter().zip(CDF) {
                for (k, t) in times.iter().enumerate() {
                    let value = share * rate * 15.0 * (100 + k) as f64;
                    writeln!(out, "istio_request_duration_milliseconds_bucket{{{labels},le=\"{bound}\"}} {value} {t}").unwrap();
                }
            }
            for (k, t) in times.iter().enumerate() {
                let count = rate * 15.0 * (100 + k) as f64;
                writeln!(
                    out,
                    "istio_request_duration_milliseconds_count{{{labels}}} {count} {t}"
                )
                .unwrap();
                writeln!(
                    out,
                    "istio_request_duration_milliseconds_sum{{{labels}}} {} {t}",
                    count * 25.0
                )
                .unwrap();
            }
        }
    }
    for metric in ["istio_tcp_sent_bytes", "istio_tcp_received_bytes"] {
        writeln!(out, "# TYPE {metric} counter").unwrap();
        for (i, hop) in hops.iter().enumerate().filter(|(_, h)| h.tcp) {
            for reporter in ["source", "destination"] {
                let labels = hop_labels(hop, namespaces, reporter);
                for (k, t) in times.iter().enumerate() {
                    let value = (1000 + i) as f64 * 15.0 * (100 + k) as f64;
                    writeln!(
                        out,
                        "{metric}_total{{{labels},request_protocol=\"tcp\"}} {value} {t}"
                    )
                    .unwrap();
                }
            }
        }
    }
    writeln!(out, "# EOF").unwrap();
}

/// Kiali's graph queries for one namespace (as its mocked answers show them), for the
/// default rates: requests, and TCP bytes read from istio_tcp_received_bytes_total.
fn kiali_queries(namespace: &str, window: &str) -> Vec<String> {
    let by = "source_cluster,source_workload_namespace,source_workload,source_canonical_service,\
              source_canonical_revision,destination_cluster,destination_service_namespace,destination_service,\
              destination_service_name,destination_workload_namespace,destination_workload,\
              destination_canonical_service,destination_canonical_revision,request_protocol,response_code,\
              grpc_response_status,response_flags";
    let selectors = [
        format!("reporter=\"source\",source_workload_namespace!=\"{namespace}\",destination_workload_namespace=\"unknown\",destination_workload=\"unknown\",destination_service=~\"^.+\\\\.{namespace}\\\\..+$\""),
        format!("reporter=\"destination\",destination_workload_namespace=\"{namespace}\""),
        format!("reporter=\"source\",source_workload_namespace=\"{namespace}\""),
    ];
    let mut queries = Vec::new();
    for metric in ["istio_requests_total", "istio_tcp_received_bytes_total"] {
        for selector in &selectors {
            queries.push(format!(
                "round(sum(rate({metric}{{{selector}}} [{window}])) by ({by}) > 0,0.001)"
            ));
        }
    }
    queries
}

/// Prometheus's own evaluation time for a query (`stats=all`), in seconds.
async fn server_seconds(client: &reqwest::Client, base: &str, promql: &str, time: u64) -> f64 {
    let answer: serde_json::Value = client
        .get(format!("{base}/api/v1/query"))
        .query(&[
            ("query", promql),
            ("time", &time.to_string()),
            ("stats", "all"),
        ])
        .send()
        .await
        .expect("query Prometheus")
        .json()
        .await
        .expect("a JSON answer");
    assert_eq!(answer["status"], "success", "{promql}: {answer}");
    answer["data"]["stats"]["timings"]["evalTotalTime"]
        .as_f64()
        .expect("stats in the answer")
}

/// How many stored series a query's selectors read: Prometheus's own count of the samples
/// it loaded (`stats=all`) divided by the samples a series holds in the window is not
/// exact, so this counts them: `count(selector)` for every selector in the query.
async fn series_read(client: &reqwest::Client, base: &str, promql: &str, time: u64) -> f64 {
    let mut total = 0.0;
    for selector in selectors(promql) {
        let answer: serde_json::Value = client
            .get(format!("{base}/api/v1/query"))
            .query(&[
                ("query", format!("count({selector})")),
                ("time", time.to_string()),
            ])
            .send()
            .await
            .expect("query Prometheus")
            .json()
            .await
            .expect("a JSON answer");
        total += answer["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
    }
    total
}

/// Every `metric{...}` selector of a query, as written.
fn selectors(promql: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = promql;
    while let Some(open) = rest.find("(istio_") {
        let from = &rest[open + 1..];
        let Some(close) = from.find('}') else { break };
        found.push(from[..=close].to_owned());
        rest = &from[close..];
    }
    found
}

fn has(binary: &str) -> bool {
    Command::new(binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn plan_server_time() {
    const NAMESPACES: usize = 50;
    println!("server time on a real Prometheus, synthetic mesh of {NAMESPACES} namespaces:");
    if !has("prometheus") || !has("promtool") {
        println!("  needs Debian's prometheus package (prometheus and promtool): apt-get install -y prometheus");
        return;
    }
    let dir = std::env::temp_dir().join(format!("meshtui-bench-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let end: u64 = 1_795_557_600;
    let hops = synthetic_hops(NAMESPACES * 8, NAMESPACES * 24, 11);
    let data = dir.join("mesh.om");
    write_openmetrics(&data, &hops, NAMESPACES, 11, end);
    let backfill = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&data)
        .arg(dir.join("tsdb"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(backfill.success(), "promtool backfill");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
    )
    .unwrap();
    let address = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg("--storage.tsdb.retention.time=100y")
        .arg(format!("--web.listen-address={address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{address}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while !client.get(format!("{base}/-/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            assert!(started.elapsed() < Duration::from_secs(60), "Prometheus did not get ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let namespaces: Vec<String> = (0..NAMESPACES).map(|i| format!("ns-{i}")).collect();
        let kiali: Vec<String> = namespaces.iter().flat_map(|ns| kiali_queries(ns, "120s")).collect();
        let kiali_series: f64 = {
            let mut total = 0.0;
            for query in &kiali {
                total += series_read(&client, &base, query, end).await;
            }
            total
        };
        // Percentiles are asked for once per window: 1 refresh in 8 at 15 s with a 2 m window.
        let refreshes_per_latency = 120 / 15;
        for (name, chosen) in [("50 namespaces listed", namespaces.clone()), ("all namespaces", vec![])] {
            let ours = plan(&PlanOptions { namespaces: chosen, window: Duration::from_secs(120) }).unwrap();
            println!("  meshtui, {name}:");
            let mut ours_series = (0.0, 0.0);
            for query in &ours {
                let seconds = server_seconds(&client, &base, &query.promql, end).await;
                let series = series_read(&client, &base, &query.promql, end).await;
                if query.kind == QueryKind::LatencyQuantiles {
                    ours_series.1 += series;
                } else {
                    ours_series.0 += series;
                }
                println!("    {:?} query: {:.1} ms, {series} series read", query.kind, seconds * 1000.0);
            }
            let mut rounds = Vec::new();
            for _ in 0..5 {
                let (mut rates, mut latency) = (0.0, 0.0);
                for query in &ours {
                    let seconds = server_seconds(&client, &base, &query.promql, end).await;
                    if query.kind == QueryKind::LatencyQuantiles {
                        latency += seconds;
                    } else {
                        rates += seconds;
                    }
                }
                let mut per_namespace = 0.0;
                for query in &kiali {
                    per_namespace += server_seconds(&client, &base, query, end).await;
                }
                rounds.push((rates, latency, per_namespace));
            }
            rounds.sort_by(|a, b| (a.0 / a.2).total_cmp(&(b.0 / b.2)));
            let (rates, latency, per_namespace) = rounds[rounds.len() / 2];
            let amortized = rates + latency / f64::from(refreshes_per_latency);
            println!(
                "    per refresh: rates {:.1} ms ({} series read) + percentiles {:.1} ms once per window ({} series read) = {:.1} ms amortized over {refreshes_per_latency} refreshes",
                rates * 1000.0, ours_series.0, latency * 1000.0, ours_series.1, amortized * 1000.0
            );
            println!(
                "    Kiali-shaped: {} queries, {:.1} ms ({kiali_series} series read); ratio rates only {:.3}, amortized {:.3}, every query every refresh {:.3} (median of 5)",
                kiali.len(),
                per_namespace * 1000.0,
                rates / per_namespace,
                amortized / per_namespace,
                (rates + latency) / per_namespace
            );
        }
    });
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if wants("queries") {
        queries_per_refresh();
    }
    if wants("graph") {
        graph_from_json();
    }
    if wants("server") {
        plan_server_time();
    }
}
