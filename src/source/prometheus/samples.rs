//! One query's decoded answer -> traffic samples, with the metric the query asked for.

use crate::mesh::labels::{IstioMetric, LabelError};
use crate::mesh::{Reporter, TrafficSample};

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
        QueryKind::DurationBuckets => IstioMetric::RequestDurationBucket,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::SampleKind;
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
        assert_eq!(sample.rate_per_s, 0.4);
    }

    #[test]
    fn a_bucket_answer_reads_its_bound() {
        let series = decode_vector(ANSWER.as_bytes()).unwrap();
        let samples = samples_from_answer(QueryKind::DurationBuckets, &series).unwrap();
        assert_eq!(samples[0].kind, SampleKind::DurationBucket { le_ms: 25.0 });
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
