//! The access log a demo pod's sidecar would write: one line per simulated request, in
//! Istio's default text format. Requests are drawn from the snapshot's series of the
//! pod's workload — inbound as its own proxy reported them, outbound as it sent them —
//! in proportion to their rates (divided among the workload's ready pods), with the
//! series' status, response flags and operation, and a duration drawn from the series'
//! latency histogram. So a fault injected on the mesh shows as the same 5xx share here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fastrand::Rng;
use tokio::sync::{mpsc, watch};

use super::requests::request_classes;
use crate::mesh::inventory::PodInfo;
use crate::mesh::{Protocol, Reporter, SampleKind, SampleLabels};
use crate::source::logs::{parse_lines, LogEvent, LogFollower, PodRef};
use crate::source::{MeshSnapshot, SourceTask};

/// At most this many lines per call, however busy the pod: a log is for reading.
pub const MAX_LINES_PER_CALL: usize = 400;
/// History a follow starts with, like `kubectl logs --tail`.
const BACKLOG_S: f64 = 30.0;

/// The latest snapshot, published by the demo source while someone follows a log.
pub type TrafficFeed = Arc<watch::Sender<Option<Arc<MeshSnapshot>>>>;

/// One series a line may come from.
struct Series<'a> {
    labels: &'a SampleLabels,
    /// Requests per second at this pod.
    rate: f64,
    inbound: bool,
    /// Cumulative (le, rate) buckets, ascending.
    buckets: Vec<(f64, f64)>,
}

/// The lines `pod`'s sidecar writes from `from_unix_s` for `seconds`, oldest first, with
/// the simulated traffic of `snapshot`. The same inputs give the same lines.
pub fn proxy_log_lines(
    snapshot: &MeshSnapshot,
    pod: &PodRef,
    from_unix_s: f64,
    seconds: f64,
    seed: u64,
) -> Vec<String> {
    let mut rng = Rng::with_seed(seed);
    let Some(info) = find_pod(snapshot, pod) else {
        return Vec::new();
    };
    let Some(workload) = info.workload.as_deref() else {
        return Vec::new();
    };
    let ready_pods = snapshot
        .inventory
        .pods_of(&info.cluster, &info.namespace, workload)
        .filter(|p| p.ready)
        .count()
        .max(1) as f64;
    let series = pod_series(snapshot, &info.namespace, workload, ready_pods);
    let total: f64 = series.iter().map(|s| s.rate).sum();
    if total <= 0.0 || seconds <= 0.0 {
        return Vec::new();
    }
    let expected = total * seconds;
    let mut count = expected.floor() as usize;
    if rng.f64() < expected.fract() {
        count += 1;
    }
    let count = count.min(MAX_LINES_PER_CALL);
    let mut requests: Vec<(f64, usize)> = (0..count)
        .map(|_| {
            (
                from_unix_s + rng.f64() * seconds,
                pick(&series, total, &mut rng),
            )
        })
        .collect();
    requests.sort_by(|a, b| a.0.total_cmp(&b.0));
    let own_address = address(&format!("{}/{}", info.namespace, info.name));
    requests
        .into_iter()
        .filter_map(|(at, index)| {
            let series = series.get(index)?;
            Some(line(series, at, &own_address, &mut rng))
        })
        .collect()
}

fn find_pod<'a>(snapshot: &'a MeshSnapshot, pod: &PodRef) -> Option<&'a PodInfo> {
    snapshot
        .inventory
        .pods
        .iter()
        .find(|p| p.cluster == pod.cluster && p.namespace == pod.namespace && p.name == pod.pod)
}

fn pod_series<'a>(
    snapshot: &'a MeshSnapshot,
    namespace: &str,
    workload: &str,
    ready_pods: f64,
) -> Vec<Series<'a>> {
    let mut buckets: HashMap<&SampleLabels, Vec<(f64, f64)>> = HashMap::new();
    let mut series = Vec::new();
    for sample in &snapshot.samples {
        let labels = &sample.labels;
        let inbound = labels.reporter == Reporter::Destination
            && labels.destination.workload == workload
            && labels.destination.namespace == namespace;
        let outbound = labels.reporter == Reporter::Source
            && labels.source.workload == workload
            && labels.source.namespace == namespace;
        if !inbound && !outbound {
            continue;
        }
        match sample.kind {
            SampleKind::Requests if sample.value > 0.0 => series.push(Series {
                labels,
                rate: sample.value / ready_pods,
                inbound,
                buckets: Vec::new(),
            }),
            SampleKind::DurationBucket { le_ms } => {
                buckets
                    .entry(labels)
                    .or_default()
                    .push((le_ms, sample.value));
            }
            _ => {}
        }
    }
    for one in &mut series {
        if let Some(mut found) = buckets.remove(one.labels) {
            found.sort_by(|a, b| a.0.total_cmp(&b.0));
            one.buckets = found;
        }
    }
    series
}

fn pick(series: &[Series<'_>], total: f64, rng: &mut Rng) -> usize {
    let mut at = rng.f64() * total;
    for (index, one) in series.iter().enumerate() {
        if at < one.rate {
            return index;
        }
        at -= one.rate;
    }
    series.len().saturating_sub(1)
}

/// A duration drawn from cumulative buckets, linear within a bucket (as
/// `histogram_quantile` reads them).
fn duration_ms(buckets: &[(f64, f64)], rng: &mut Rng) -> u64 {
    let Some(&(_, count)) = buckets.last() else {
        return 1 + rng.u64(0..20);
    };
    let target = rng.f64() * count;
    let mut lower = (0.0, 0.0);
    for &(le, cumulative) in buckets {
        if cumulative >= target && cumulative > lower.1 {
            let upper = if le.is_finite() {
                le
            } else {
                lower.0 * 1.5 + 1.0
            };
            let share = (target - lower.1) / (cumulative - lower.1);
            return (lower.0 + share * (upper - lower.0)).round().max(0.0) as u64;
        }
        lower = (if le.is_finite() { le } else { lower.0 }, cumulative);
    }
    lower.0.round() as u64
}

/// What Envoy writes as `%RESPONSE_CODE_DETAILS%` for these flags.
fn details(code: u16, flags: &str) -> &'static str {
    match flags {
        "UF" => "upstream_reset_before_response_started{connection_failure}",
        "UO" => "overflow",
        "FI" => "fault_filter_abort",
        "DC" => "downstream_remote_disconnect",
        "UT" => "response_timeout",
        "NR" => "route_not_found",
        "URX" => "upstream_reset_before_response_started{remote_reset}",
        _ if code == 0 => "-",
        _ => "via_upstream",
    }
}

/// A pod address made up from a name, the same every time.
fn address(name: &str) -> String {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!(
        "10.{}.{}.{}",
        40 + (hash >> 8) % 8,
        (hash >> 16) % 256,
        2 + (hash >> 24) % 250
    )
}

fn port(labels: &SampleLabels) -> u16 {
    match (
        labels.protocol,
        labels.destination_service_namespace.as_str(),
    ) {
        (Protocol::Grpc, _) => 50051,
        (_, "bookinfo") => 9080,
        _ => 8080,
    }
}

fn request_id(rng: &mut Rng) -> String {
    let mut hex = |n: usize| -> String { (0..n).map(|_| rng.digit(16)).collect() };
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

fn user_agent(rng: &mut Rng) -> &'static str {
    let classes = request_classes();
    let mut at = rng.f64();
    for class in &classes {
        if at < class.share {
            return class.header("user-agent").unwrap_or("-");
        }
        at -= class.share;
    }
    "-"
}

/// Method, path and protocol of one request of the series.
fn request(labels: &SampleLabels, rng: &mut Rng) -> (String, String, &'static str) {
    let operation = labels.operation.as_ref().map(|o| o.as_str().to_owned());
    match (labels.protocol, operation) {
        (Protocol::Tcp, _) => ("-".into(), "-".into(), "-"),
        (Protocol::Grpc, Some(method)) => ("POST".into(), format!("/{method}"), "HTTP/2"),
        (_, Some(operation)) => {
            let (method, template) = operation.split_once(' ').unwrap_or(("GET", &operation));
            let path = template
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        rng.u32(0..10).to_string()
                    } else {
                        part.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            (method.to_owned(), path, "HTTP/1.1")
        }
        (_, None) => ("GET".into(), "/".into(), "HTTP/1.1"),
    }
}

fn line(series: &Series<'_>, at_unix_s: f64, own_address: &str, rng: &mut Rng) -> String {
    let labels = series.labels;
    let (method, path, protocol) = request(labels, rng);
    let code = labels.response_code;
    let flags = labels.response_flags.as_str();
    let port = port(labels);
    let service = labels.destination_service_name.as_str();
    let host = labels.destination_service.as_str();
    let peer = address(&format!(
        "{}/{}-{}",
        labels.destination.namespace,
        labels.destination.workload,
        rng.u8(0..2)
    ));
    let answered_by_proxy = matches!(flags, "UO" | "FI" | "NR");
    let (upstream_host, cluster, local, remote) = if series.inbound {
        (
            format!("{own_address}:{port}"),
            format!("inbound|{port}||"),
            format!("{own_address}:{port}"),
            format!(
                "{}:{}",
                address(&labels.source.workload),
                rng.u16(32768..61000)
            ),
        )
    } else {
        (
            if answered_by_proxy {
                "-".into()
            } else {
                format!("{peer}:{port}")
            },
            format!("outbound|{port}||{host}"),
            format!("{}:{port}", address(host)),
            format!("{own_address}:{}", rng.u16(32768..61000)),
        )
    };
    let duration = if labels.protocol == Protocol::Tcp {
        rng.u64(200..60_000)
    } else {
        duration_ms(&series.buckets, rng)
    };
    let service_time = if code == 0 || answered_by_proxy {
        "-".to_owned()
    } else {
        duration.saturating_sub(rng.u64(0..2)).to_string()
    };
    let (received, sent) = match labels.protocol {
        Protocol::Tcp => (rng.u32(200..4_000), rng.u32(1_000..40_000)),
        _ if method == "POST" => (rng.u32(40..900), rng.u32(0..2_000)),
        _ => (0, if code == 0 { 0 } else { rng.u32(80..5_000) }),
    };
    let authority = if labels.protocol == Protocol::Tcp {
        "-".to_owned()
    } else {
        format!("{service}:{port}")
    };
    format!(
        "[{}] \"{method} {path} {protocol}\" {code} {flags} {} - \"-\" {received} {sent} {duration} {service_time} \"-\" \"{}\" \"{}\" \"{authority}\" \"{upstream_host}\" {cluster} {} {local} {remote} - default",
        rfc3339_millis(at_unix_s),
        details(code, flags),
        if labels.protocol == Protocol::Tcp { "-" } else { user_agent(rng) },
        request_id(rng),
        if series.inbound { "127.0.0.6:0".to_owned() } else { format!("{own_address}:0") },
    )
}

/// `2026-11-25T21:26:18.409Z`, as `%START_TIME%` writes a time.
pub fn rfc3339_millis(unix_s: f64) -> String {
    let millis = (unix_s.max(0.0) * 1000.0).round() as u64;
    let (seconds, millis) = (millis / 1000, millis % 1000);
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// The Gregorian date `days` after 1970-01-01 (counting in 400-year eras of 146,097 days,
/// with years starting in March so that the leap day comes last).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Follows a demo pod's log: a backlog at once, then the lines of every new snapshot.
pub struct DemoLogFollower {
    feed: TrafficFeed,
    seed: u64,
}

impl DemoLogFollower {
    pub fn new(feed: TrafficFeed, seed: u64) -> Self {
        DemoLogFollower { feed, seed }
    }
}

impl LogFollower for DemoLogFollower {
    fn follow(&self, pod: PodRef, events: mpsc::Sender<LogEvent>) -> SourceTask {
        // Subscribing is what makes the source publish its snapshots.
        let feed = self.feed.subscribe();
        let seed = self.seed;
        Box::pin(follow_demo(feed, pod, seed, events))
    }
}

async fn follow_demo(
    mut feed: watch::Receiver<Option<Arc<MeshSnapshot>>>,
    pod: PodRef,
    seed: u64,
    events: mpsc::Sender<LogEvent>,
) {
    if events.send(LogEvent::Connected).await.is_err() {
        return;
    }
    let mut last: Option<f64> = None;
    let mut calls = 0_u64;
    loop {
        let latest = feed.borrow_and_update().clone();
        if let Some(snapshot) = latest {
            if find_pod(&snapshot, &pod).is_none() {
                let message = format!("pod {}/{} not found (deleted?)", pod.namespace, pod.pod);
                let _ = events.send(LogEvent::Failed(message)).await;
                return;
            }
            let now = snapshot.taken_at_unix_s;
            let from = last.unwrap_or(now - BACKLOG_S);
            if now > from {
                calls += 1;
                let lines = proxy_log_lines(&snapshot, &pod, from, now - from, seed ^ calls);
                if !lines.is_empty()
                    && events
                        .send(LogEvent::Lines(parse_lines(lines)))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            last = Some(now);
        }
        tokio::select! {
            changed = feed.changed() => if changed.is_err() {
                let news = LogEvent::Interrupted {
                    reason: "the demo mesh stopped".into(),
                    retry_in: Duration::ZERO,
                };
                let _ = events.send(news).await;
                return;
            },
            () = events.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::access_log::{parse_line, LogLine, StatusClass};
    use crate::source::demo::{DemoMesh, DemoOptions, DEMO_START_UNIX_S};

    fn entries(lines: &[String]) -> Vec<crate::mesh::access_log::AccessLogEntry> {
        lines
            .iter()
            .map(|l| match parse_line(l) {
                LogLine::Access(e) => *e,
                LogLine::Raw(raw) => panic!("a demo line that does not parse: {raw}"),
            })
            .collect()
    }

    #[test]
    fn times_are_written_as_envoy_writes_them() {
        assert_eq!(rfc3339_millis(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_millis(951_782_400.25), "2000-02-29T00:00:00.250Z");
        assert_eq!(
            rfc3339_millis(DEMO_START_UNIX_S),
            "2026-11-24T22:00:00.000Z"
        );
    }

    #[test]
    fn a_pods_lines_parse_and_their_error_share_follows_the_simulation() {
        let mesh = DemoMesh::new(DemoOptions::default());
        let snapshot = mesh.snapshot();
        let pod = PodRef::proxy("Kubernetes", "bookinfo", "productpage-v1-0");
        let lines = proxy_log_lines(&snapshot, &pod, DEMO_START_UNIX_S, 10.0, 7);
        assert_eq!(
            lines,
            proxy_log_lines(&snapshot, &pod, DEMO_START_UNIX_S, 10.0, 7)
        );
        let parsed = entries(&lines);
        assert!(parsed.len() > 20, "{} lines", parsed.len());
        assert!(parsed
            .iter()
            .any(|e| e.upstream_cluster == "inbound|9080||"));
        assert!(parsed
            .iter()
            .any(|e| e.upstream_cluster.starts_with("outbound|9080||reviews.")));
        assert!(parsed
            .windows(2)
            .all(|w| w[0].start_time <= w[1].start_time));

        // Over many lines, the share of 5xx in the shop frontend's calls to the ad
        // service (16 % in the model) matches what its proxy reported in the snapshot.
        let frontend = PodRef::proxy("Kubernetes", "shop", "frontend-v1-0");
        let to_ad: Vec<_> = (0..40)
            .flat_map(|seed| {
                entries(&proxy_log_lines(
                    &snapshot,
                    &frontend,
                    DEMO_START_UNIX_S,
                    10.0,
                    seed,
                ))
            })
            .filter(|e| e.upstream_cluster.ends_with("||ad.shop.svc.cluster.local"))
            .collect();
        assert!(to_ad.len() > 300, "{} calls to ad", to_ad.len());
        let failed = to_ad
            .iter()
            .filter(|e| e.class() == StatusClass::ServerError)
            .count();
        let observed = failed as f64 / to_ad.len() as f64;
        let (mut errors, mut all) = (0.0, 0.0);
        for s in &snapshot.samples {
            let l = &s.labels;
            if s.kind == SampleKind::Requests
                && l.reporter == Reporter::Source
                && l.source.workload == "frontend-v1"
                && l.destination_service_name.as_str() == "ad"
            {
                all += s.value;
                if l.response_code >= 500 {
                    errors += s.value;
                }
            }
        }
        let expected = errors / all;
        assert!(expected > 0.1, "the model's ad service fails {expected:.3}");
        assert!(
            (observed - expected).abs() < 0.05,
            "5xx share {observed:.3} in the log, {expected:.3} in the metrics"
        );
    }

    #[tokio::test]
    async fn following_a_demo_pod_brings_a_backlog_then_the_lines_of_each_new_snapshot() {
        use crate::source::demo::DemoSource;
        use crate::source::MeshSource;
        let options = DemoOptions {
            tick: Duration::from_millis(20),
            ..DemoOptions::default()
        };
        let source = DemoSource::new(options);
        let follower = source.log_follower();
        let (snapshots, mut from_source) = mpsc::channel(4);
        let (_commands, commands) = mpsc::channel(1);
        let running = tokio::spawn(Box::new(source).run(snapshots, commands));
        let drain = tokio::spawn(async move { while from_source.recv().await.is_some() {} });
        let (sender, mut events) = mpsc::channel(16);
        let pod = PodRef::proxy("Kubernetes", "bookinfo", "reviews-v3-0");
        let following = tokio::spawn(follower.follow(pod, sender));
        let first = tokio::time::timeout(Duration::from_secs(10), events.recv()).await;
        assert_eq!(first.unwrap(), Some(LogEvent::Connected));
        let mut batches = 0;
        while batches < 2 {
            let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .unwrap()
                .unwrap();
            if let LogEvent::Lines(lines) = event {
                assert!(lines.iter().all(|l| matches!(l, LogLine::Access(_))));
                batches += 1;
            }
        }
        drop(events);
        tokio::time::timeout(Duration::from_secs(10), following)
            .await
            .unwrap()
            .unwrap();
        running.abort();
        drain.abort();
    }

    #[test]
    fn an_unknown_pod_writes_nothing() {
        let snapshot = DemoMesh::new(DemoOptions::default()).snapshot();
        let pod = PodRef::proxy("Kubernetes", "bookinfo", "nope-0");
        assert!(proxy_log_lines(&snapshot, &pod, 0.0, 10.0, 1).is_empty());
    }
}
