//! Istio label sets, as Prometheus answers them, turned into [`TrafficSample`]s.
//!
//! The Prometheus decoder and the Kiali conformance fixtures share this mapping, so that a
//! series means the same thing whichever way it arrived. It takes a plain map of strings:
//! decoding the HTTP API's JSON is the source's business.

use std::collections::BTreeMap;

use super::traffic::{
    PeerLabels, Protocol, Reporter, SampleKind, SampleLabels, SecurityPolicy, TrafficSample,
    UNKNOWN,
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
        match value {
            "source" => Some(Reporter::Source),
            "destination" => Some(Reporter::Destination),
            "waypoint" => Some(Reporter::Waypoint),
            _ => None,
        }
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
    pub fn from_prometheus_labels(
        labels: &BTreeMap<String, String>,
        reporter: Reporter,
    ) -> Result<Self, LabelError> {
        let get = |name: &str| labels.get(name).map(String::as_str);
        let or_unknown = |name: &str| get(name).unwrap_or(UNKNOWN).to_owned();
        let peer = |side: &str| PeerLabels {
            cluster: or_unknown(&format!("{side}_cluster")),
            namespace: or_unknown(&format!("{side}_workload_namespace")),
            workload: or_unknown(&format!("{side}_workload")),
            app: get(&format!("{side}_canonical_service"))
                .or_else(|| get(&format!("{side}_app")))
                .unwrap_or(UNKNOWN)
                .to_owned(),
            version: get(&format!("{side}_canonical_revision"))
                .or_else(|| get(&format!("{side}_version")))
                .unwrap_or(UNKNOWN)
                .to_owned(),
        };
        let response_code = match get("response_code") {
            None => 0,
            Some(value) => value
                .parse::<u16>()
                .ok()
                .filter(|code| *code <= 999)
                .ok_or_else(|| LabelError::ResponseCode {
                    value: value.to_owned(),
                })?,
        };
        let grpc_status = match get("grpc_response_status") {
            None | Some("") => None,
            Some(value) => Some(value.parse::<u32>().map_err(|_| LabelError::GrpcStatus {
                value: value.to_owned(),
            })?),
        };
        Ok(SampleLabels {
            reporter,
            source: peer("source"),
            destination: peer("destination"),
            destination_service: or_unknown("destination_service"),
            destination_service_name: or_unknown("destination_service_name"),
            destination_service_namespace: or_unknown("destination_service_namespace"),
            protocol: get("request_protocol").map_or(Protocol::Http, Protocol::from_label),
            response_code,
            grpc_status,
            response_flags: get("response_flags").unwrap_or("-").to_owned(),
            security: get("connection_security_policy")
                .map_or(SecurityPolicy::Unknown, SecurityPolicy::from_label),
            operation: get("request_operation")
                .filter(|op| !op.is_empty())
                .map(str::to_owned),
        })
    }
}

impl TrafficSample {
    /// One series of an answer to a query on `metric`, with its per-second rate.
    ///
    /// TCP series are TCP whatever `request_protocol` says (they have none). A request series
    /// must say its `response_code`, a bucket series its `le`.
    pub fn from_prometheus(
        metric: IstioMetric,
        labels: &BTreeMap<String, String>,
        reporter: Reporter,
        value: f64,
    ) -> Result<Self, LabelError> {
        let mut sample_labels = SampleLabels::from_prometheus_labels(labels, reporter)?;
        let kind = match metric {
            // Latency needs no outcome labels: only request counts must say their code.
            IstioMetric::RequestsTotal if !labels.contains_key("response_code") => {
                return Err(LabelError::Missing {
                    metric: metric.name(),
                    label: "response_code",
                });
            }
            IstioMetric::RequestsTotal => SampleKind::Requests,
            IstioMetric::RequestDurationBucket => {
                let le = labels.get("le").ok_or(LabelError::Missing {
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
}

/// `le` as Envoy writes it (`0.5`, `1`, `+Inf`) or as Prometheus 3 normalises it (`1.0`).
fn parse_bucket_bound(value: &str) -> Result<f64, LabelError> {
    let bound = match value {
        "+Inf" | "Inf" | "inf" | "+inf" => f64::INFINITY,
        _ => value.parse::<f64>().map_err(|_| LabelError::BucketBound {
            value: value.to_owned(),
        })?,
    };
    if bound.is_nan() {
        return Err(LabelError::BucketBound {
            value: value.to_owned(),
        });
    }
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            sample.source,
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
        assert_eq!(sample.source, PeerLabels::unknown());
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
