//! The demo's counters in Prometheus' text exposition format 0.0.4, labelled as Istio's
//! proxies label them (the full standard set, principals and canonical names included).

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::mesh::traffic::UNKNOWN;
use crate::mesh::{PeerLabels, Protocol, Reporter, SampleLabels, SecurityPolicy};

use super::super::latency::DURATION_BOUNDS_MS;
use super::super::series::SeriesCounters;
use super::super::simulate::DemoMesh;

/// The `Content-Type` of text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Istio's default trust domain, the first part of every SPIFFE principal.
const TRUST_DOMAIN: &str = "cluster.local";

const REQUESTS: &str = "istio_requests_total";
const DURATION: &str = "istio_request_duration_milliseconds";
const TCP_SENT: &str = "istio_tcp_sent_bytes_total";
const TCP_RECEIVED: &str = "istio_tcp_received_bytes_total";

/// The whole `/metrics` page of the demo mesh as it stands now.
pub fn render_metrics(mesh: &DemoMesh) -> String {
    // The client's proxy writes principals too when the hop is mutual TLS, but its series
    // carry `connection_security_policy="unknown"`: the route says whether the hop is mTLS.
    let mtls_routes: HashMap<(&str, &str, &str), bool> = mesh
        .routes()
        .iter()
        .map(|r| {
            let key = (
                r.client_namespace.as_str(),
                r.client_workload.as_str(),
                r.service_host.as_str(),
            );
            (key, r.mtls)
        })
        .collect();
    let mutual_tls = |labels: &SampleLabels| match labels.reporter {
        Reporter::Source => {
            !labels.destination.is_unknown()
                && mtls_routes
                    .get(&(
                        labels.source.namespace.as_str(),
                        labels.source.workload.as_str(),
                        labels.destination_service.as_str(),
                    ))
                    .copied()
                    .unwrap_or(false)
        }
        Reporter::Destination | Reporter::Waypoint => labels.security == SecurityPolicy::MutualTls,
    };
    // Proxies a Telemetry does not tell to label the operation leave it off; the series of
    // that hop's operations are then one series.
    render_labelled(mesh.counters(), mutual_tls, |labels| {
        mesh.labels_operation(labels)
    })
}

/// Renders series with their totals; `mutual_tls` tells whether a series' hop used mTLS, which
/// decides whether its principals are known.
#[cfg(test)]
pub(super) fn render_exposition<'a>(
    series: impl IntoIterator<Item = (&'a SampleLabels, &'a SeriesCounters)>,
    mutual_tls: impl Fn(&SampleLabels) -> bool,
) -> String {
    render_labelled(series, mutual_tls, |_| true)
}

/// As [`render_exposition`]; `labels_operation` tells whether the series' proxy writes
/// `request_operation`.
fn render_labelled<'a>(
    series: impl IntoIterator<Item = (&'a SampleLabels, &'a SeriesCounters)>,
    mutual_tls: impl Fn(&SampleLabels) -> bool,
    labels_operation: impl Fn(&SampleLabels) -> bool,
) -> String {
    // Two simulated callers a proxy cannot tell apart (both without a sidecar, say) share a
    // label set; a proxy counts them in one series, and a page must not repeat a series.
    let mut requests: Vec<(String, SeriesCounters)> = Vec::new();
    let mut tcp: Vec<(String, SeriesCounters)> = Vec::new();
    let mut seen: HashMap<String, (bool, usize)> = HashMap::new();
    for (labels, counters) in series {
        let text = label_text(labels, mutual_tls(labels), labels_operation(labels));
        let is_tcp = labels.protocol == Protocol::Tcp;
        if let Some(&(was_tcp, index)) = seen.get(&text) {
            let group = if was_tcp { &mut tcp } else { &mut requests };
            if let Some((_, total)) = group.get_mut(index) {
                add_counters(total, counters);
            }
            continue;
        }
        let group = if is_tcp { &mut tcp } else { &mut requests };
        seen.insert(text.clone(), (is_tcp, group.len()));
        group.push((text, *counters));
    }
    let mut out = String::new();

    family_header(
        &mut out,
        REQUESTS,
        "counter",
        "Requests handled by an Istio proxy, by peers and outcome.",
    );
    for (labels, counters) in &requests {
        sample(&mut out, REQUESTS, labels, None, counters.requests);
    }

    family_header(
        &mut out,
        DURATION,
        "histogram",
        "Time from the start of a request until its response completed, in milliseconds.",
    );
    let bucket = format!("{DURATION}_bucket");
    let sum = format!("{DURATION}_sum");
    let count = format!("{DURATION}_count");
    // Envoy writes bounds without trailing zeros (`0.5`, `1`, `3600000`), as Rust prints them.
    let bounds: Vec<String> = DURATION_BOUNDS_MS.iter().map(f64::to_string).collect();
    for (labels, counters) in &requests {
        // Float shares may leave a bucket a hair above the count or its predecessor; a
        // histogram must be cumulative, so each bucket is clamped between the two.
        let mut running = 0.0_f64;
        for (bound, value) in bounds.iter().zip(counters.duration_buckets) {
            running = running.max(value.min(counters.requests));
            sample(&mut out, &bucket, labels, Some(bound), running);
        }
        sample(&mut out, &bucket, labels, Some("+Inf"), counters.requests);
        sample(&mut out, &sum, labels, None, counters.duration_sum_ms);
        sample(&mut out, &count, labels, None, counters.requests);
    }

    family_header(
        &mut out,
        TCP_SENT,
        "counter",
        "Bytes sent to the downstream of TCP connections (the response direction).",
    );
    for (labels, counters) in &tcp {
        sample(&mut out, TCP_SENT, labels, None, counters.tcp_sent_bytes);
    }
    family_header(
        &mut out,
        TCP_RECEIVED,
        "counter",
        "Bytes received from the downstream of TCP connections (the request direction).",
    );
    for (labels, counters) in &tcp {
        sample(
            &mut out,
            TCP_RECEIVED,
            labels,
            None,
            counters.tcp_received_bytes,
        );
    }
    out
}

fn add_counters(total: &mut SeriesCounters, more: &SeriesCounters) {
    total.requests += more.requests;
    for (bucket, extra) in total.duration_buckets.iter_mut().zip(more.duration_buckets) {
        *bucket += extra;
    }
    total.duration_sum_ms += more.duration_sum_ms;
    total.tcp_sent_bytes += more.tcp_sent_bytes;
    total.tcp_received_bytes += more.tcp_received_bytes;
}

fn family_header(out: &mut String, name: &str, kind: &str, help: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, le: Option<&str>, value: f64) {
    out.push_str(name);
    out.push('{');
    out.push_str(labels);
    if let Some(le) = le {
        out.push_str(",le=\"");
        out.push_str(le);
        out.push('"');
    }
    out.push_str("} ");
    push_value(out, value);
    out.push('\n');
}

/// Rust prints finite floats without an exponent and whole ones without `.0` (`3`, `0.25`),
/// which the format accepts; the non-finite ones need the format's own spelling.
fn push_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{value}");
    }
}

/// The label set of a series, in the order Istio's stats filter writes it, without braces.
fn label_text(labels: &SampleLabels, mtls: bool, with_operation: bool) -> String {
    let mut text = LabelText::default();
    text.push("reporter", reporter(labels.reporter));
    text.peer("source", &labels.source, mtls);
    let destination = &labels.destination;
    text.push("destination_workload", &destination.workload);
    text.push("destination_workload_namespace", &destination.namespace);
    text.push("destination_principal", &principal(destination, mtls));
    text.push("destination_app", &destination.app);
    text.push("destination_version", &destination.version);
    text.push("destination_service", &labels.destination_service);
    text.push("destination_service_name", &labels.destination_service_name);
    text.push(
        "destination_service_namespace",
        &labels.destination_service_namespace,
    );
    text.push(
        "destination_canonical_service",
        &canonical_service(destination),
    );
    text.push(
        "destination_canonical_revision",
        canonical_revision(destination),
    );
    text.push("destination_cluster", &destination.cluster);
    text.push("request_protocol", labels.protocol.as_str());
    text.push("response_flags", &labels.response_flags);
    text.push("connection_security_policy", security(labels.security));
    // TCP metrics have no response: Istio leaves both labels off them.
    if labels.protocol != Protocol::Tcp {
        text.push("response_code", &labels.response_code.to_string());
        // Empty on plain HTTP, and Prometheus drops empty labels anyway.
        if let Some(status) = labels.grpc_status {
            text.push("grpc_response_status", &status.to_string());
        }
    }
    if let Some(operation) = labels.operation.as_ref().filter(|_| with_operation) {
        text.push("request_operation", operation);
    }
    text.0
}

#[derive(Default)]
struct LabelText(String);

impl LabelText {
    fn push(&mut self, name: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push(',');
        }
        self.0.push_str(name);
        self.0.push_str("=\"");
        escape_label_value(&mut self.0, value);
        self.0.push('"');
    }

    /// The source side's labels; the destination side interleaves service labels instead.
    fn peer(&mut self, side: &str, peer: &PeerLabels, mtls: bool) {
        self.push(&format!("{side}_workload"), &peer.workload);
        self.push(&format!("{side}_workload_namespace"), &peer.namespace);
        self.push(&format!("{side}_principal"), &principal(peer, mtls));
        self.push(&format!("{side}_app"), &peer.app);
        self.push(&format!("{side}_version"), &peer.version);
        self.push(
            &format!("{side}_canonical_service"),
            &canonical_service(peer),
        );
        self.push(
            &format!("{side}_canonical_revision"),
            canonical_revision(peer),
        );
        self.push(&format!("{side}_cluster"), &peer.cluster);
    }
}

/// The format escapes exactly three characters in label values.
pub(super) fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
}

fn known(value: &str) -> bool {
    !value.is_empty() && value != UNKNOWN
}

/// A peer's SPIFFE identity, which only a mutual-TLS hop reveals. The demo's pods run as a
/// service account named after their app (or workload), as Bookinfo's and most charts' do.
fn principal(peer: &PeerLabels, mtls: bool) -> String {
    if !mtls || peer.is_unknown() {
        return UNKNOWN.into();
    }
    let account = if known(&peer.app) {
        &peer.app
    } else {
        &peer.workload
    };
    format!("spiffe://{TRUST_DOMAIN}/ns/{}/sa/{account}", peer.namespace)
}

/// Istio defaults a pod's canonical name to its `app` label, else the workload's name.
fn canonical_service(peer: &PeerLabels) -> String {
    if !known(&peer.workload) {
        UNKNOWN.into()
    } else if known(&peer.app) {
        peer.app.clone()
    } else {
        peer.workload.clone()
    }
}

/// Istio defaults a pod's canonical revision to its `version` label, else `latest`.
fn canonical_revision(peer: &PeerLabels) -> &str {
    if known(&peer.version) {
        &peer.version
    } else {
        "latest"
    }
}

fn reporter(reporter: Reporter) -> &'static str {
    match reporter {
        Reporter::Source => "source",
        Reporter::Destination => "destination",
        Reporter::Waypoint => "waypoint",
    }
}

fn security(policy: SecurityPolicy) -> &'static str {
    match policy {
        SecurityPolicy::MutualTls => "mutual_tls",
        SecurityPolicy::None => "none",
        SecurityPolicy::Unknown => "unknown",
    }
}
