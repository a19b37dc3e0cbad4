//! Istio label sets, as Prometheus answers them, turned into [`TrafficSample`]s.
//!
//! The Prometheus decoder and the Kiali conformance fixtures share this mapping, so that a
//! series means the same thing whichever way it arrived. It reads [`IstioLabels`], the values
//! of the labels meshtui uses, filled from a plain map of strings or straight from an answer's
//! bytes: decoding the HTTP API's JSON is the source's business.

use std::collections::BTreeMap;

use super::label_value::{LabelInterner, PeerRequest, ValueRequest};
use super::traffic::{
    Protocol, Reporter, SampleKind, SampleLabels, SecurityPolicy, TrafficSample, UNKNOWN,
};

/// A label set that cannot be a sample of the metric it was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("response_code {value:?} is not an HTTP status code (expected 0 to 999)")]
    ResponseCode { value: String },
    #[error("grpc_response_status {value:?} is not a gRPC status number")]
    GrpcStatus { value: String },
    #[error("le {value:?} is not a histogram bucket bound (a number or +Inf)")]
    BucketBound { value: String },
    #[error("a series of {metric} has no {label} label")]
    Missing {
        metric: &'static str,
        label: &'static str,
    },
}

/// The Istio metrics meshtui reads, named as Prometheus stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IstioMetric {
    RequestsTotal,
    RequestDurationBucket,
    TcpSentBytesTotal,
    TcpReceivedBytesTotal,
}

impl IstioMetric {
    pub const ALL: [IstioMetric; 4] = [
        IstioMetric::RequestsTotal,
        IstioMetric::RequestDurationBucket,
        IstioMetric::TcpSentBytesTotal,
        IstioMetric::TcpReceivedBytesTotal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IstioMetric::RequestsTotal => "istio_requests_total",
            IstioMetric::RequestDurationBucket => "istio_request_duration_milliseconds_bucket",
            IstioMetric::TcpSentBytesTotal => "istio_tcp_sent_bytes_total",
            IstioMetric::TcpReceivedBytesTotal => "istio_tcp_received_bytes_total",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl Reporter {
    /// Parses the `reporter` label.
    pub fn from_label(value: &str) -> Option<Self> {
        Self::from_label_bytes(value.as_bytes())
    }

    pub fn from_label_bytes(value: &[u8]) -> Option<Self> {
        match value {
            b"source" => Some(Reporter::Source),
            b"destination" => Some(Reporter::Destination),
            b"waypoint" => Some(Reporter::Waypoint),
            _ => None,
        }
    }
}

/// The labels meshtui reads from a series; every other label is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IstioLabel {
    Reporter,
    SourceCluster,
    SourceWorkloadNamespace,
    SourceWorkload,
    SourceApp,
    SourceVersion,
    SourceCanonicalService,
    SourceCanonicalRevision,
    DestinationCluster,
    DestinationWorkloadNamespace,
    DestinationWorkload,
    DestinationApp,
    DestinationVersion,
    DestinationCanonicalService,
    DestinationCanonicalRevision,
    DestinationService,
    DestinationServiceName,
    DestinationServiceNamespace,
    RequestProtocol,
    ResponseCode,
    GrpcResponseStatus,
    ResponseFlags,
    ConnectionSecurityPolicy,
    RequestOperation,
    Le,
    Quantile,
}

const LABEL_COUNT: usize = 26;
// `IstioLabels::present` has a bit per label.
const _: () = assert!(LABEL_COUNT <= 32);

impl IstioLabel {
    pub const ALL: [IstioLabel; LABEL_COUNT] = [
        IstioLabel::Reporter,
        IstioLabel::SourceCluster,
        IstioLabel::SourceWorkloadNamespace,
        IstioLabel::SourceWorkload,
        IstioLabel::SourceApp,
        IstioLabel::SourceVersion,
        IstioLabel::SourceCanonicalService,
        IstioLabel::SourceCanonicalRevision,
        IstioLabel::DestinationCluster,
        IstioLabel::DestinationWorkloadNamespace,
        IstioLabel::DestinationWorkload,
        IstioLabel::DestinationApp,
        IstioLabel::DestinationVersion,
        IstioLabel::DestinationCanonicalService,
        IstioLabel::DestinationCanonicalRevision,
        IstioLabel::DestinationService,
        IstioLabel::DestinationServiceName,
        IstioLabel::DestinationServiceNamespace,
        IstioLabel::RequestProtocol,
        IstioLabel::ResponseCode,
        IstioLabel::GrpcResponseStatus,
        IstioLabel::ResponseFlags,
        IstioLabel::ConnectionSecurityPolicy,
        IstioLabel::RequestOperation,
        IstioLabel::Le,
        IstioLabel::Quantile,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IstioLabel::Reporter => "reporter",
            IstioLabel::SourceCluster => "source_cluster",
            IstioLabel::SourceWorkloadNamespace => "source_workload_namespace",
            IstioLabel::SourceWorkload => "source_workload",
            IstioLabel::SourceApp => "source_app",
            IstioLabel::SourceVersion => "source_version",
            IstioLabel::SourceCanonicalService => "source_canonical_service",
            IstioLabel::SourceCanonicalRevision => "source_canonical_revision",
            IstioLabel::DestinationCluster => "destination_cluster",
            IstioLabel::DestinationWorkloadNamespace => "destination_workload_namespace",
            IstioLabel::DestinationWorkload => "destination_workload",
            IstioLabel::DestinationApp => "destination_app",
            IstioLabel::DestinationVersion => "destination_version",
            IstioLabel::DestinationCanonicalService => "destination_canonical_service",
            IstioLabel::DestinationCanonicalRevision => "destination_canonical_revision",
            IstioLabel::DestinationService => "destination_service",
            IstioLabel::DestinationServiceName => "destination_service_name",
            IstioLabel::DestinationServiceNamespace => "destination_service_namespace",
            IstioLabel::RequestProtocol => "request_protocol",
            IstioLabel::ResponseCode => "response_code",
            IstioLabel::GrpcResponseStatus => "grpc_response_status",
            IstioLabel::ResponseFlags => "response_flags",
            IstioLabel::ConnectionSecurityPolicy => "connection_security_policy",
            IstioLabel::RequestOperation => "request_operation",
            IstioLabel::Le => "le",
            IstioLabel::Quantile => "quantile",
        }
    }

    /// The label of that name, if meshtui reads it. A decoder asks once per label name and
    /// position, not once per series.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|label| label.name().as_bytes() == name)
    }
}

/// The values of the [`IstioLabel`]s of one series, as UTF-8 bytes, so that a decoder can
/// point them straight into the answer it reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct IstioLabels<'a> {
    values: [&'a [u8]; LABEL_COUNT],
    /// Which of `values` this series has, a bit per label: a decoder reuses one set for
    /// every series, and clearing a word is cheaper than clearing the values.
    present: u32,
}

impl<'a> IstioLabels<'a> {
    /// The labels meshtui reads out of a whole label set.
    pub fn from_map(labels: &'a BTreeMap<String, String>) -> Self {
        let mut known = IstioLabels::default();
        for label in IstioLabel::ALL {
            if let Some(value) = labels.get(label.name()) {
                known.set(label, value);
            }
        }
        known
    }

    pub fn set(&mut self, label: IstioLabel, value: &'a str) {
        self.set_bytes(label, value.as_bytes());
    }

    /// For a decoder: `value` must be UTF-8 (bytes that are not are replaced when read).
    pub fn set_bytes(&mut self, label: IstioLabel, value: &'a [u8]) {
        self.values[label as usize] = value;
        self.present |= 1 << label as u32;
    }

    pub fn remove(&mut self, label: IstioLabel) {
        self.present &= !(1 << label as u32);
    }

    /// Removes every label.
    pub fn clear(&mut self) {
        self.present = 0;
    }

    pub fn get(&self, label: IstioLabel) -> Option<&'a [u8]> {
        (self.present & (1 << label as u32) != 0).then(|| self.values[label as usize])
    }

    /// A value as text, for error messages.
    pub fn text(&self, label: IstioLabel) -> Option<String> {
        self.get(label).map(lossy)
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn parse<T: std::str::FromStr>(bytes: &[u8]) -> Option<T> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// The labels that describe one side of a hop.
struct PeerLabelNames {
    cluster: IstioLabel,
    namespace: IstioLabel,
    workload: IstioLabel,
    canonical_service: IstioLabel,
    app: IstioLabel,
    canonical_revision: IstioLabel,
    version: IstioLabel,
}

const SOURCE: PeerLabelNames = PeerLabelNames {
    cluster: IstioLabel::SourceCluster,
    namespace: IstioLabel::SourceWorkloadNamespace,
    workload: IstioLabel::SourceWorkload,
    canonical_service: IstioLabel::SourceCanonicalService,
    app: IstioLabel::SourceApp,
    canonical_revision: IstioLabel::SourceCanonicalRevision,
    version: IstioLabel::SourceVersion,
};

const DESTINATION: PeerLabelNames = PeerLabelNames {
    cluster: IstioLabel::DestinationCluster,
    namespace: IstioLabel::DestinationWorkloadNamespace,
    workload: IstioLabel::DestinationWorkload,
    canonical_service: IstioLabel::DestinationCanonicalService,
    app: IstioLabel::DestinationApp,
    canonical_revision: IstioLabel::DestinationCanonicalRevision,
    version: IstioLabel::DestinationVersion,
};

const UNKNOWN_BYTES: &[u8] = UNKNOWN.as_bytes();

/// What to look up for one side of a hop.
fn peer_request<'b>(labels: &IstioLabels<'b>, names: &PeerLabelNames) -> PeerRequest<'b> {
    let get = |label| labels.get(label).unwrap_or(UNKNOWN_BYTES);
    let either = |first, second| {
        labels
            .get(first)
            .or_else(|| labels.get(second))
            .unwrap_or(UNKNOWN_BYTES)
    };
    PeerRequest {
        slot: names.workload as usize,
        parts: [
            get(names.cluster),
            get(names.namespace),
            get(names.workload),
            either(names.canonical_service, names.app),
            either(names.canonical_revision, names.version),
        ],
    }
}

impl SampleLabels {
    /// The labels of one series. `reporter` comes from the query (a `sum by` drops the label).
    ///
    /// - A missing peer or service label reads `unknown`, as Istio writes for a peer it does
    ///   not know; a label present but empty (Prometheus keeps `""` when grouping by it) stays
    ///   empty.
    /// - App and version are the canonical service and revision when the series has them (as
    ///   Kiali reads them: both proxies agree on them, the revision defaulting to `latest`),
    ///   else the `*_app` / `*_version` labels.
    /// - `request_protocol` missing means HTTP; `response_code` missing means 0 (TCP series
    ///   have none); `grpc_response_status` missing or empty means none (plain HTTP);
    ///   `response_flags` missing means `-`; `connection_security_policy` missing means unknown.
    ///
    /// Values come from `interner`, shared with every other sample it made.
    pub fn from_istio_labels(
        labels: &IstioLabels<'_>,
        reporter: Reporter,
        interner: &mut LabelInterner,
    ) -> Result<Self, LabelError> {
        let response_code = match labels.get(IstioLabel::ResponseCode) {
            None => 0,
            Some(value) => parse::<u16>(value)
                .filter(|code| *code <= 999)
                .ok_or_else(|| LabelError::ResponseCode {
                    value: lossy(value),
                })?,
        };
        let grpc_status = match labels.get(IstioLabel::GrpcResponseStatus) {
            None | Some(b"") => None,
            Some(value) => Some(parse::<u32>(value).ok_or_else(|| LabelError::GrpcStatus {
                value: lossy(value),
            })?),
        };
        let value = |label: IstioLabel, default: &'static [u8]| ValueRequest {
            slot: label as usize,
            bytes: labels.get(label).unwrap_or(default),
        };
        let (
            [source, destination],
            [destination_service, destination_service_name, destination_service_namespace, response_flags],
        ) = interner.resolve(
            [
                peer_request(labels, &SOURCE),
                peer_request(labels, &DESTINATION),
            ],
            [
                value(IstioLabel::DestinationService, UNKNOWN_BYTES),
                value(IstioLabel::DestinationServiceName, UNKNOWN_BYTES),
                value(IstioLabel::DestinationServiceNamespace, UNKNOWN_BYTES),
                value(IstioLabel::ResponseFlags, b"-"),
            ],
        );
        Ok(SampleLabels {
            reporter,
            source,
            destination,
            destination_service,
            destination_service_name,
            destination_service_namespace,
            protocol: labels
                .get(IstioLabel::RequestProtocol)
                .map_or(Protocol::Http, Protocol::from_label_bytes),
            response_code,
            grpc_status,
            response_flags,
            security: labels
                .get(IstioLabel::ConnectionSecurityPolicy)
                .map_or(SecurityPolicy::Unknown, SecurityPolicy::from_label_bytes),
            operation: labels
                .get(IstioLabel::RequestOperation)
                .filter(|op| !op.is_empty())
                .map(|op| interner.value_in(IstioLabel::RequestOperation as usize, op)),
        })
    }

    /// [`SampleLabels::from_istio_labels`] for a plain label set.
    pub fn from_prometheus_labels(
        labels: &BTreeMap<String, String>,
        reporter: Reporter,
    ) -> Result<Self, LabelError> {
        Self::from_istio_labels(
            &IstioLabels::from_map(labels),
            reporter,
            &mut LabelInterner::new(),
        )
    }
}

impl TrafficSample {
    /// One series of an answer to a query on `metric`, with its per-second rate.
    ///
    /// TCP series are TCP whatever `request_protocol` says (they have none). A request series
    /// must say its `response_code`, a bucket series its `le`.
    pub fn from_istio_labels(
        metric: IstioMetric,
        labels: &IstioLabels<'_>,
        reporter: Reporter,
        value: f64,
        interner: &mut LabelInterner,
    ) -> Result<Self, LabelError> {
        let mut sample_labels = SampleLabels::from_istio_labels(labels, reporter, interner)?;
        let kind = match metric {
            // Latency needs no outcome labels: only request counts must say their code.
            IstioMetric::RequestsTotal if labels.get(IstioLabel::ResponseCode).is_none() => {
                return Err(LabelError::Missing {
                    metric: metric.name(),
                    label: "response_code",
                });
            }
            IstioMetric::RequestsTotal => SampleKind::Requests,
            IstioMetric::RequestDurationBucket => {
                let le = labels.get(IstioLabel::Le).ok_or(LabelError::Missing {
                    metric: metric.name(),
                    label: "le",
                })?;
                SampleKind::DurationBucket {
                    le_ms: parse_bucket_bound(le)?,
                }
            }
            IstioMetric::TcpSentBytesTotal => SampleKind::TcpSentBytes,
            IstioMetric::TcpReceivedBytesTotal => SampleKind::TcpReceivedBytes,
        };
        if matches!(
            kind,
            SampleKind::TcpSentBytes | SampleKind::TcpReceivedBytes
        ) {
            sample_labels.protocol = Protocol::Tcp;
            sample_labels.response_code = 0;
            sample_labels.grpc_status = None;
        }
        Ok(TrafficSample {
            kind,
            labels: sample_labels,
            value,
        })
    }

    /// [`TrafficSample::from_istio_labels`] for a plain label set.
    pub fn from_prometheus(
        metric: IstioMetric,
        labels: &BTreeMap<String, String>,
        reporter: Reporter,
        value: f64,
    ) -> Result<Self, LabelError> {
        Self::from_istio_labels(
            metric,
            &IstioLabels::from_map(labels),
            reporter,
            value,
            &mut LabelInterner::new(),
        )
    }
}

/// `le` as Envoy writes it (`0.5`, `1`, `+Inf`) or as Prometheus 3 normalises it (`1.0`).
fn parse_bucket_bound(value: &[u8]) -> Result<f64, LabelError> {
    let error = || LabelError::BucketBound {
        value: lossy(value),
    };
    let bound = match value {
        b"+Inf" | b"Inf" | b"inf" | b"+inf" => f64::INFINITY,
        _ => parse::<f64>(value).ok_or_else(error)?,
    };
    if bound.is_nan() {
        return Err(error());
    }
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::PeerLabels;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn reviews_to_ratings() -> BTreeMap<String, String> {
        labels(&[
            ("source_cluster", "east"),
            ("source_workload_namespace", "bookinfo"),
            ("source_workload", "reviews-v2"),
            ("source_canonical_service", "reviews"),
            ("source_canonical_revision", "v2"),
            ("destination_cluster", "east"),
            ("destination_workload_namespace", "bookinfo"),
            ("destination_workload", "ratings-v1"),
            ("destination_canonical_service", "ratings"),
            ("destination_canonical_revision", "v1"),
            ("destination_service", "ratings.bookinfo.svc.cluster.local"),
            ("destination_service_name", "ratings"),
            ("destination_service_namespace", "bookinfo"),
            ("request_protocol", "http"),
            ("response_code", "503"),
            ("response_flags", "UO"),
            ("connection_security_policy", "mutual_tls"),
        ])
    }

    #[test]
    fn a_full_label_set_maps_label_for_label() {
        let sample =
            SampleLabels::from_prometheus_labels(&reviews_to_ratings(), Reporter::Source).unwrap();
        assert_eq!(
            *sample.source,
            PeerLabels {
                cluster: "east".into(),
                namespace: "bookinfo".into(),
                workload: "reviews-v2".into(),
                app: "reviews".into(),
                version: "v2".into(),
            }
        );
        assert_eq!(sample.destination.workload, "ratings-v1");
        assert_eq!(
            sample.destination_service,
            "ratings.bookinfo.svc.cluster.local"
        );
        assert_eq!(sample.destination_service_name, "ratings");
        assert_eq!(sample.destination_service_namespace, "bookinfo");
        assert_eq!(sample.protocol, Protocol::Http);
        assert_eq!(sample.response_code, 503);
        assert_eq!(sample.grpc_status, None);
        assert_eq!(sample.response_flags, "UO");
        assert_eq!(sample.security, SecurityPolicy::MutualTls);
        assert_eq!(sample.reporter, Reporter::Source);
        assert_eq!(sample.operation, None);
    }

    #[test]
    fn missing_labels_read_unknown_and_empty_ones_stay_empty() {
        let sample = SampleLabels::from_prometheus_labels(
            &labels(&[
                ("destination_workload", "kiali-2412"),
                ("destination_service", ""),
                ("destination_canonical_service", ""),
            ]),
            Reporter::Destination,
        )
        .unwrap();
        assert_eq!(*sample.source, PeerLabels::unknown());
        assert_eq!(sample.destination.workload, "kiali-2412");
        assert_eq!(sample.destination.namespace, UNKNOWN);
        assert_eq!(sample.destination.app, "");
        assert_eq!(sample.destination_service, "");
        assert_eq!(sample.destination_service_name, UNKNOWN);
        assert_eq!(sample.protocol, Protocol::Http);
        assert_eq!(sample.response_flags, "-");
        assert_eq!(sample.security, SecurityPolicy::Unknown);
    }

    #[test]
    fn canonical_names_win_over_app_and_version_labels() {
        let mut set = reviews_to_ratings();
        set.insert("source_app".into(), "reviews-app".into());
        set.insert("source_version".into(), String::new());
        set.insert("destination_app".into(), "ratings-app".into());
        set.remove("destination_canonical_service");
        let sample = SampleLabels::from_prometheus_labels(&set, Reporter::Source).unwrap();
        assert_eq!(sample.source.app, "reviews");
        assert_eq!(sample.source.version, "v2");
        assert_eq!(sample.destination.app, "ratings-app", "falls back to *_app");
    }

    #[test]
    fn grpc_status_is_read_when_present_and_not_empty() {
        let mut set = reviews_to_ratings();
        set.insert("request_protocol".into(), "grpc".into());
        set.insert("grpc_response_status".into(), "14".into());
        let sample = SampleLabels::from_prometheus_labels(&set, Reporter::Source).unwrap();
        assert_eq!(sample.protocol, Protocol::Grpc);
        assert_eq!(sample.grpc_status, Some(14));
        set.insert("grpc_response_status".into(), String::new());
        let sample = SampleLabels::from_prometheus_labels(&set, Reporter::Source).unwrap();
        assert_eq!(sample.grpc_status, None);
    }

    #[test]
    fn unparsable_codes_are_errors_that_name_the_label_and_value() {
        let cases = [
            ("response_code", "2xx", "response_code \"2xx\""),
            ("response_code", "70000", "response_code \"70000\""),
            ("response_code", "1000", "response_code \"1000\""),
            ("grpc_response_status", "OK", "grpc_response_status \"OK\""),
        ];
        for (label, value, expected) in cases {
            let mut set = reviews_to_ratings();
            set.insert(label.into(), value.into());
            let error = SampleLabels::from_prometheus_labels(&set, Reporter::Source).unwrap_err();
            assert!(
                error.to_string().contains(expected),
                "{label}={value}: {error}"
            );
        }
    }

    #[test]
    fn tcp_series_are_tcp_whatever_the_labels_say() {
        let mut set = reviews_to_ratings();
        set.remove("request_protocol");
        set.remove("response_code");
        let sample = TrafficSample::from_prometheus(
            IstioMetric::TcpReceivedBytesTotal,
            &set,
            Reporter::Destination,
            62.0,
        )
        .unwrap();
        assert_eq!(sample.kind, SampleKind::TcpReceivedBytes);
        assert_eq!(sample.labels.protocol, Protocol::Tcp);
        assert_eq!(sample.labels.response_code, 0);
        assert_eq!(sample.value, 62.0);
    }

    #[test]
    fn request_series_need_a_response_code_and_buckets_a_bound() {
        let mut set = reviews_to_ratings();
        set.remove("response_code");
        assert_eq!(
            TrafficSample::from_prometheus(IstioMetric::RequestsTotal, &set, Reporter::Source, 1.0),
            Err(LabelError::Missing {
                metric: "istio_requests_total",
                label: "response_code"
            })
        );
        let mut set = reviews_to_ratings();
        let bucket = |set: &BTreeMap<String, String>| {
            TrafficSample::from_prometheus(
                IstioMetric::RequestDurationBucket,
                set,
                Reporter::Source,
                1.0,
            )
        };
        assert!(matches!(
            bucket(&set),
            Err(LabelError::Missing { label: "le", .. })
        ));
        for (le, bound) in [("0.5", 0.5), ("1.0", 1.0), ("+Inf", f64::INFINITY)] {
            set.insert("le".into(), le.into());
            assert_eq!(
                bucket(&set).unwrap().kind,
                SampleKind::DurationBucket { le_ms: bound }
            );
        }
        set.insert("le".into(), "NaN".into());
        assert!(matches!(bucket(&set), Err(LabelError::BucketBound { .. })));
    }

    #[test]
    fn metric_names_round_trip() {
        for metric in IstioMetric::ALL {
            assert_eq!(IstioMetric::from_name(metric.name()), Some(metric));
        }
        assert_eq!(IstioMetric::from_name("istio_request_messages_total"), None);
        assert_eq!(Reporter::from_label("waypoint"), Some(Reporter::Waypoint));
        assert_eq!(Reporter::from_label("client"), None);
    }
}
