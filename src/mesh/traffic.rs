//! Traffic samples shaped like Istio's standard metrics, and the arithmetic on them.
//!
//! A [`TrafficSample`] is one series of an instant-vector answer: the labels of
//! `istio_requests_total`, `istio_request_duration_milliseconds_bucket` or
//! `istio_tcp_*_bytes_total` and its per-second rate over the time window. The demo mesh
//! produces them directly; the Prometheus decoder produces the same type.

use std::fmt;
use std::sync::Arc;

use super::label_value::LabelValue;

/// The placeholder Istio writes for a peer it does not know.
pub const UNKNOWN: &str = "unknown";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Http,
    Grpc,
    Tcp,
}

impl Protocol {
    /// Parses the `request_protocol` label; anything unexpected is treated as HTTP,
    /// as Istio reports HTTP/1.1 and HTTP/2 both as `http`.
    pub fn from_label(value: &str) -> Self {
        Self::from_label_bytes(value.as_bytes())
    }

    /// As [`Protocol::from_label`], for a value still in an answer's bytes.
    pub fn from_label_bytes(value: &[u8]) -> Self {
        match value {
            b"grpc" => Protocol::Grpc,
            b"tcp" => Protocol::Tcp,
            _ => Protocol::Http,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Tcp => "tcp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which proxy reported a sample (the `reporter` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reporter {
    Source,
    Destination,
    Waypoint,
}

/// The `connection_security_policy` label: only the destination side can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityPolicy {
    MutualTls,
    None,
    Unknown,
}

impl SecurityPolicy {
    pub fn from_label(value: &str) -> Self {
        Self::from_label_bytes(value.as_bytes())
    }

    pub fn from_label_bytes(value: &[u8]) -> Self {
        match value {
            b"mutual_tls" => SecurityPolicy::MutualTls,
            b"none" => SecurityPolicy::None,
            _ => SecurityPolicy::Unknown,
        }
    }
}

/// One side (source or destination) of a sample: the `*_workload`, `*_workload_namespace`,
/// `*_app`, `*_version` and `*_cluster` labels. Values are `unknown` when Istio did not know.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerLabels {
    pub cluster: String,
    pub namespace: String,
    pub workload: String,
    pub app: String,
    pub version: String,
}

impl PeerLabels {
    pub fn unknown() -> Self {
        PeerLabels {
            cluster: UNKNOWN.into(),
            namespace: UNKNOWN.into(),
            workload: UNKNOWN.into(),
            app: UNKNOWN.into(),
            version: UNKNOWN.into(),
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.workload == UNKNOWN && self.namespace == UNKNOWN
    }
}

/// The label set of one Istio series, minus those meshtui never groups by (principals,
/// canonical names), which would only split series that mean the same edge.
///
/// Peers and strings are shared (`Arc`, [`LabelValue`]): the samples of one answer repeat
/// the same few thousand peers hundreds of thousands of times.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SampleLabels {
    pub reporter: Reporter,
    pub source: Arc<PeerLabels>,
    pub destination: Arc<PeerLabels>,
    /// `destination_service`: the host, e.g. `reviews.bookinfo.svc.cluster.local`.
    pub destination_service: LabelValue,
    /// `destination_service_name`: short name, or `PassthroughCluster` / `BlackHoleCluster`.
    pub destination_service_name: LabelValue,
    pub destination_service_namespace: LabelValue,
    pub protocol: Protocol,
    /// HTTP status; 0 means no response was sent. Always 0 for TCP.
    pub response_code: u16,
    /// `grpc_response_status`, absent on plain HTTP series.
    pub grpc_status: Option<u32>,
    /// Envoy's response flags, `-` when none.
    pub response_flags: LabelValue,
    pub security: SecurityPolicy,
    /// The operation (method + path template, or gRPC method) when the mesh reports one.
    pub operation: Option<LabelValue>,
}

/// What a sample measures, and so the unit of its value. Rates are per second over the
/// time window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleKind {
    /// `istio_requests_total`: requests per second.
    Requests,
    /// `istio_request_duration_milliseconds_bucket{le}`: requests per second at or under `le_ms`.
    DurationBucket { le_ms: f64 },
    /// `istio_tcp_sent_bytes_total`: bytes per second the reporting proxy sent to the
    /// downstream, i.e. the response direction: what the edge's client *received*.
    TcpSentBytes,
    /// `istio_tcp_received_bytes_total`: bytes per second received from the downstream, i.e.
    /// the request direction: what the edge's client *sent*. This is why Kiali's "sent" TCP
    /// rate reads this metric and its "received" rate the other one (istio/istio#32399).
    TcpReceivedBytes,
    /// A latency percentile of the series' requests in milliseconds, computed by Prometheus
    /// (`histogram_quantile`) so that a large mesh need not send every bucket.
    LatencyQuantile { quantile: Quantile },
}

/// The latency percentiles meshtui shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantile {
    P50,
    P95,
    P99,
}

impl Quantile {
    pub const ALL: [Quantile; 3] = [Quantile::P50, Quantile::P95, Quantile::P99];

    pub fn fraction(self) -> f64 {
        match self {
            Quantile::P50 => 0.5,
            Quantile::P95 => 0.95,
            Quantile::P99 => 0.99,
        }
    }

    /// As PromQL writes the fraction, e.g. in a `quantile` label: `0.5`, `0.95`, `0.99`.
    pub fn label(self) -> &'static str {
        match self {
            Quantile::P50 => "0.5",
            Quantile::P95 => "0.95",
            Quantile::P99 => "0.99",
        }
    }

    pub fn from_label(text: &str) -> Option<Self> {
        Self::from_label_bytes(text.as_bytes())
    }

    pub fn from_label_bytes(text: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.label().as_bytes() == text)
    }
}

/// One series: what it measures, its labels, and its value in the unit its kind says
/// (requests/s, bytes/s or milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSample {
    pub kind: SampleKind,
    pub labels: SampleLabels,
    pub value: f64,
}

/// How a response counts in error rates, following Kiali: 4xx is the client's fault,
/// 5xx and "no response" (code 0) are the server's or the mesh's; 3xx is no error but is
/// counted apart, as Kiali does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseClass {
    Success,
    Redirect,
    ClientError,
    ServerError,
    NoResponse,
}

impl ResponseClass {
    /// As Kiali reads a response: code 0 is no response whatever the protocol; a gRPC
    /// request is judged by its gRPC status unless the HTTP transport itself failed (4xx/5xx).
    pub fn of(protocol: Protocol, response_code: u16, grpc_status: Option<u32>) -> Self {
        let transport_failed = response_code == 0 || (400..=599).contains(&response_code);
        if protocol == Protocol::Grpc && !transport_failed {
            if let Some(status) = grpc_status {
                return match status {
                    0 => ResponseClass::Success,
                    // Codes caused by the caller's request (gRPC's own mapping to HTTP 4xx).
                    1 | 3 | 5 | 6 | 7 | 9 | 11 | 16 => ResponseClass::ClientError,
                    _ => ResponseClass::ServerError,
                };
            }
        }
        match response_code {
            0 => ResponseClass::NoResponse,
            300..=399 => ResponseClass::Redirect,
            400..=499 => ResponseClass::ClientError,
            500..=599 => ResponseClass::ServerError,
            _ => ResponseClass::Success,
        }
    }
}

/// Request rates by response class, in requests per second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorSplit {
    pub total: f64,
    /// 3xx answers: part of `total`, not errors.
    pub redirect_3xx: f64,
    pub client_4xx: f64,
    pub server_5xx: f64,
    pub no_response: f64,
}

impl ErrorSplit {
    pub fn add(&mut self, class: ResponseClass, rate: f64) {
        self.total += rate;
        match class {
            ResponseClass::Success => {}
            ResponseClass::Redirect => self.redirect_3xx += rate,
            ResponseClass::ClientError => self.client_4xx += rate,
            ResponseClass::ServerError => self.server_5xx += rate,
            ResponseClass::NoResponse => self.no_response += rate,
        }
    }

    pub fn merge(&mut self, other: &ErrorSplit) {
        self.total += other.total;
        self.redirect_3xx += other.redirect_3xx;
        self.client_4xx += other.client_4xx;
        self.server_5xx += other.server_5xx;
        self.no_response += other.no_response;
    }

    fn percent(&self, part: f64) -> f64 {
        if self.total > 0.0 {
            100.0 * part / self.total
        } else {
            0.0
        }
    }

    pub fn client_error_pct(&self) -> f64 {
        self.percent(self.client_4xx)
    }

    /// 5xx and "no response" together: the failures Kiali's health counts against a server.
    pub fn server_error_pct(&self) -> f64 {
        self.percent(self.server_5xx + self.no_response)
    }

    pub fn error_pct(&self) -> f64 {
        self.percent(self.client_4xx + self.server_5xx + self.no_response)
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyQuantiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl LatencyQuantiles {
    /// Quantiles from cumulative bucket rates `(le_ms, rate)`, `+Inf` included as `f64::INFINITY`.
    pub fn from_buckets(buckets: &[(f64, f64)]) -> Option<Self> {
        Some(LatencyQuantiles {
            p50_ms: histogram_quantile(0.50, buckets)?,
            p95_ms: histogram_quantile(0.95, buckets)?,
            p99_ms: histogram_quantile(0.99, buckets)?,
        })
    }
}

/// The q-quantile of a classic histogram, computed as PromQL's `histogram_quantile` does:
/// find the bucket holding the rank and interpolate linearly inside it; a rank in the
/// `+Inf` bucket answers the highest finite bound. Buckets need not be sorted.
/// Returns `None` when there are no observations or no `+Inf` bucket.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) || buckets.is_empty() {
        return None;
    }
    let mut sorted: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|(le, rate)| !le.is_nan() && rate.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Cumulative counts may dip through float noise; make them monotonic as Prometheus does,
    // before reading the total from the +Inf bucket.
    let mut running = 0.0_f64;
    for bucket in &mut sorted {
        running = running.max(bucket.1);
        bucket.1 = running;
    }
    let (last_le, total) = *sorted.last()?;
    // PromQL answers nothing without a +Inf bucket, and nothing with only that one.
    if last_le != f64::INFINITY || total <= 0.0 || sorted.len() < 2 {
        return None;
    }
    let rank = q * total;
    let index = sorted.iter().position(|(_, count)| *count >= rank)?;
    if index == sorted.len() - 1 {
        return Some(sorted[sorted.len() - 2].0);
    }
    let (upper, upper_count) = sorted[index];
    let (lower, lower_count) = if index == 0 {
        (if upper > 0.0 { 0.0 } else { upper }, 0.0)
    } else {
        sorted[index - 1]
    };
    let in_bucket = upper_count - lower_count;
    if in_bucket <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - lower_count) / in_bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn quantile_interpolates_inside_the_bucket_holding_the_rank() {
        // 10 requests <= 10 ms, 10 more <= 50 ms, none slower.
        let buckets = [(10.0, 10.0), (50.0, 20.0), (f64::INFINITY, 20.0)];
        assert!(close(histogram_quantile(0.5, &buckets).unwrap(), 10.0));
        assert!(close(histogram_quantile(0.75, &buckets).unwrap(), 30.0));
        assert!(close(histogram_quantile(0.25, &buckets).unwrap(), 5.0));
    }

    #[test]
    fn quantile_in_the_inf_bucket_answers_the_highest_finite_bound() {
        let buckets = [(100.0, 1.0), (f64::INFINITY, 10.0)];
        assert!(close(histogram_quantile(0.99, &buckets).unwrap(), 100.0));
    }

    #[test]
    fn quantile_of_an_empty_histogram_is_none() {
        assert_eq!(
            histogram_quantile(0.5, &[(10.0, 0.0), (f64::INFINITY, 0.0)]),
            None
        );
        assert_eq!(histogram_quantile(0.5, &[(10.0, 3.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[(f64::INFINITY, 3.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[]), None);
    }

    #[test]
    fn quantile_accepts_unsorted_buckets_and_non_monotonic_noise() {
        let buckets = [(f64::INFINITY, 4.0), (1.0, 2.0), (5.0, 1.999_999)];
        assert!(close(histogram_quantile(0.5, &buckets).unwrap(), 1.0));
        // A +Inf bucket below a finite one is noise too: the total is read after the fix-up.
        let noisy_total = [(10.0, 4.0), (f64::INFINITY, 3.999_999)];
        assert!(close(histogram_quantile(0.5, &noisy_total).unwrap(), 5.0));
    }

    #[test]
    fn grpc_status_decides_the_class_of_grpc_requests() {
        assert_eq!(
            ResponseClass::of(Protocol::Grpc, 200, Some(14)),
            ResponseClass::ServerError
        );
        assert_eq!(
            ResponseClass::of(Protocol::Grpc, 200, Some(5)),
            ResponseClass::ClientError
        );
        assert_eq!(
            ResponseClass::of(Protocol::Grpc, 200, Some(0)),
            ResponseClass::Success
        );
        assert_eq!(
            ResponseClass::of(Protocol::Http, 0, None),
            ResponseClass::NoResponse
        );
        assert_eq!(
            ResponseClass::of(Protocol::Http, 503, None),
            ResponseClass::ServerError
        );
        assert_eq!(
            ResponseClass::of(Protocol::Http, 404, None),
            ResponseClass::ClientError
        );
        assert_eq!(
            ResponseClass::of(Protocol::Http, 302, None),
            ResponseClass::Redirect
        );
        assert_eq!(
            ResponseClass::of(Protocol::Grpc, 503, Some(0)),
            ResponseClass::ServerError,
            "a failed HTTP transport outranks the gRPC status"
        );
        assert_eq!(
            ResponseClass::of(Protocol::Grpc, 0, Some(0)),
            ResponseClass::NoResponse
        );
    }
}
