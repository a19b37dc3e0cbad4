//! One query's decoded answer -> traffic samples, with the metric the query asked for.

use crate::mesh::labels::{IstioMetric, LabelError};
use crate::mesh::{Quantile, Reporter, SampleKind, SampleLabels, TrafficSample};

use super::decode::VectorSample;
use super::query::QueryKind;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SampleError {
    #[error("series {index} of the {metric} answer: {source}")]
    Label {
        index: usize,
        metric: &'static str,
        source: LabelError,
    },
    #[error("series {index} of the latency answer has no valid quantile label ({found:?})")]
    Quantile { index: usize, found: Option<String> },
    #[error("series {index} of the {metric} answer has no valid reporter label ({found:?})")]
    Reporter {
        index: usize,
        metric: &'static str,
        found: Option<String>,
    },
}

fn metric_of(kind: QueryKind) -> IstioMetric {
    match kind {
        QueryKind::Requests => IstioMetric::RequestsTotal,
        QueryKind::LatencyQuantiles => IstioMetric::RequestDurationBucket,
        QueryKind::TcpSentBytes => IstioMetric::TcpSentBytesTotal,
        QueryKind::TcpReceivedBytes => IstioMetric::TcpReceivedBytesTotal,
    }
}

/// Turns every series of an answer into a sample; one series that cannot be a sample of
/// the metric refuses the whole answer, so a half-understood answer never draws a graph.
pub fn samples_from_answer(
    kind: QueryKind,
    series: &[VectorSample],
) -> Result<Vec<TrafficSample>, SampleError> {
    let metric = metric_of(kind);
    series
        .iter()
        .enumerate()
        .map(|(index, sample)| {
            let found = sample.labels.get("reporter");
            let reporter = found.and_then(|r| Reporter::from_label(r)).ok_or_else(|| {
                SampleError::Reporter {
                    index,
                    metric: metric.name(),
                    found: found.cloned(),
                }
            })?;
            if kind == QueryKind::LatencyQuantiles {
                return latency_sample(index, sample, reporter);
            }
            TrafficSample::from_prometheus(metric, &sample.labels, reporter, sample.value).map_err(
                |source| SampleError::Label {
                    index,
                    metric: metric.name(),
                    source,
                },
            )
        })
        .collect()
}

/// A percentile series: the hop's labels, its `quantile` label, milliseconds as value.
fn latency_sample(
    index: usize,
    sample: &VectorSample,
    reporter: Reporter,
) -> Result<TrafficSample, SampleError> {
    let found = sample.labels.get("quantile");
    let quantile =
        found
            .and_then(|q| Quantile::from_label(q))
            .ok_or_else(|| SampleError::Quantile {
                index,
                found: found.cloned(),
            })?;
    let labels =
        SampleLabels::from_prometheus_labels(&sample.labels, reporter).map_err(|source| {
            SampleError::Label {
                index,
                metric: IstioMetric::RequestDurationBucket.name(),
                source,
            }
        })?;
    Ok(TrafficSample {
        kind: SampleKind::LatencyQuantile { quantile },
        labels,
        value: sample.value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::prometheus::decode::decode_vector;

    const ANSWER: &str = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"reporter":"source","source_workload":"productpage-v1","source_workload_namespace":"bookinfo",
                   "destination_workload":"reviews-v2","destination_workload_namespace":"bookinfo",
                   "destination_service":"reviews.bookinfo.svc.cluster.local","request_protocol":"http",
                   "response_code":"503","response_flags":"UO","le":"25"},"value":[1795557600,"0.4"]}]}}"#;

    #[test]
    fn a_requests_answer_becomes_request_samples_with_their_reporter() {
        let series = decode_vector(ANSWER.as_bytes()).unwrap();
        let samples = samples_from_answer(QueryKind::Requests, &series).unwrap();
        assert_eq!(samples.len(), 1);
        let sample = &samples[0];
        assert_eq!(sample.kind, SampleKind::Requests);
        assert_eq!(sample.labels.reporter, Reporter::Source);
        assert_eq!(sample.labels.response_code, 503);
        assert_eq!(sample.labels.response_flags, "UO");
        assert_eq!(sample.labels.destination.workload, "reviews-v2");
        assert_eq!(sample.value, 0.4);
    }

    #[test]
    fn a_latency_answer_becomes_percentile_samples_in_milliseconds() {
        let body = ANSWER.replace(r#""le":"25""#, r#""quantile":"0.95""#);
        let series = decode_vector(body.as_bytes()).unwrap();
        let samples = samples_from_answer(QueryKind::LatencyQuantiles, &series).unwrap();
        assert_eq!(
            samples[0].kind,
            SampleKind::LatencyQuantile {
                quantile: Quantile::P95
            }
        );
        assert_eq!(samples[0].value, 0.4);
        assert_eq!(samples[0].labels.destination.workload, "reviews-v2");
    }

    #[test]
    fn a_latency_series_without_a_known_quantile_refuses_the_answer() {
        let body = ANSWER.replace(r#""le":"25""#, r#""quantile":"0.9""#);
        let series = decode_vector(body.as_bytes()).unwrap();
        let error = samples_from_answer(QueryKind::LatencyQuantiles, &series).unwrap_err();
        assert!(error.to_string().contains("quantile"), "{error}");
    }
    #[test]
    fn a_series_without_a_reporter_refuses_the_answer() {
        let body = ANSWER.replace(r#""reporter":"source","#, "");
        let series = decode_vector(body.as_bytes()).unwrap();
        let error = samples_from_answer(QueryKind::Requests, &series).unwrap_err();
        assert!(error.to_string().contains("reporter"), "{error}");
    }

    #[test]
    fn a_bad_response_code_refuses_the_answer_and_names_the_series() {
        let body = ANSWER.replace(r#""response_code":"503""#, r#""response_code":"teapot""#);
        let series = decode_vector(body.as_bytes()).unwrap();
        let error = samples_from_answer(QueryKind::Requests, &series).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("series 0 of the istio_requests_total answer"),
            "{error}"
        );
    }
}
