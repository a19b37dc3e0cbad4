//! One query's answer -> traffic samples, with the metric the query asked for.

use crate::mesh::labels::{IstioMetric, LabelError};
use crate::mesh::{
    IstioLabel, IstioLabels, LabelInterner, Quantile, Reporter, SampleKind, SampleLabels,
    TrafficSample,
};

use super::decode::{decode_series, DecodeError, SeriesSink, VectorSample};
use super::json::Text;
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

/// Why an answer gave no samples: it was no good answer, or a series was no good sample.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AnswerError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Samples(#[from] SampleError),
}

fn metric_of(kind: QueryKind) -> IstioMetric {
    match kind {
        QueryKind::Requests => IstioMetric::RequestsTotal,
        QueryKind::LatencyQuantiles => IstioMetric::RequestDurationBucket,
        QueryKind::TcpSentBytes => IstioMetric::TcpSentBytesTotal,
        QueryKind::TcpReceivedBytes => IstioMetric::TcpReceivedBytesTotal,
    }
}

/// Fewer bytes than a series with Istio's labels takes in an answer (600 to 800).
const SERIES_BYTES_AT_LEAST: usize = 256;

/// Decodes answers straight into samples, without a map of labels per series, sharing
/// repeated label values between the samples of every answer it decodes. Refuses what
/// [`decode_vector`](super::decode::decode_vector) refuses, then what
/// [`samples_from_answer`] refuses, with the same errors.
#[derive(Default)]
pub struct SampleDecoder {
    interner: LabelInterner,
    samples: Vec<TrafficSample>,
}

impl SampleDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the samples of the answer to a query of `kind`; an answer that is refused adds
    /// none.
    pub fn decode(&mut self, kind: QueryKind, body: &[u8]) -> Result<(), AnswerError> {
        let before = self.samples.len();
        // Growing a vector of 400k samples copied it several times over; capacity never
        // written to costs address space, not memory.
        self.samples.reserve(body.len() / SERIES_BYTES_AT_LEAST);
        let mut sink = SampleSink {
            kind,
            labels: IstioLabels::default(),
            escaped: Vec::new(),
            interner: &mut self.interner,
            samples: &mut self.samples,
            error: None,
        };
        let decoded = decode_series(body, &mut sink);
        let outcome = match (decoded, sink.error) {
            (Err(error), _) => Err(error.into()),
            (Ok(()), Some(error)) => Err(error.into()),
            (Ok(()), None) => Ok(()),
        };
        if outcome.is_err() {
            self.samples.truncate(before);
        }
        outcome
    }

    /// The samples of every answer, in the order the answers were decoded.
    pub fn finish(mut self) -> Vec<TrafficSample> {
        self.samples.shrink_to_fit();
        self.samples
    }
}

/// The samples of one answer (see [`SampleDecoder`]).
pub fn decode_samples(kind: QueryKind, body: &[u8]) -> Result<Vec<TrafficSample>, AnswerError> {
    let mut decoder = SampleDecoder::new();
    decoder.decode(kind, body)?;
    Ok(decoder.finish())
}

/// Turns every series of an answer into a sample; one series that cannot be a sample of
/// the metric refuses the whole answer, so a half-understood answer never draws a graph.
pub fn samples_from_answer(
    kind: QueryKind,
    series: &[VectorSample],
) -> Result<Vec<TrafficSample>, SampleError> {
    let mut interner = LabelInterner::new();
    series
        .iter()
        .enumerate()
        .map(|(index, sample)| {
            let labels = IstioLabels::from_map(&sample.labels);
            sample_of(kind, index, &labels, sample.value, &mut interner)
        })
        .collect()
}

/// One series as a sample of the metric `kind` asked for.
fn sample_of(
    kind: QueryKind,
    index: usize,
    labels: &IstioLabels<'_>,
    value: f64,
    interner: &mut LabelInterner,
) -> Result<TrafficSample, SampleError> {
    let metric = metric_of(kind);
    let found = labels.get(IstioLabel::Reporter);
    let reporter =
        found
            .and_then(Reporter::from_label_bytes)
            .ok_or_else(|| SampleError::Reporter {
                index,
                metric: metric.name(),
                found: labels.text(IstioLabel::Reporter),
            })?;
    let label_error = |source| SampleError::Label {
        index,
        metric: metric.name(),
        source,
    };
    if kind == QueryKind::LatencyQuantiles {
        // A percentile series: the hop's labels, its `quantile` label, milliseconds as value.
        let quantile = labels
            .get(IstioLabel::Quantile)
            .and_then(Quantile::from_label_bytes)
            .ok_or_else(|| SampleError::Quantile {
                index,
                found: labels.text(IstioLabel::Quantile),
            })?;
        let labels =
            SampleLabels::from_istio_labels(labels, reporter, interner).map_err(label_error)?;
        return Ok(TrafficSample {
            kind: SampleKind::LatencyQuantile { quantile },
            labels,
            value,
        });
    }
    TrafficSample::from_istio_labels(metric, labels, reporter, value, interner).map_err(label_error)
}

/// Collects each series' labels where they lie in the body, and makes it a sample when its
/// value comes. After the first bad series it only keeps reading, for the decoder's checks.
struct SampleSink<'a, 'd> {
    kind: QueryKind,
    labels: IstioLabels<'a>,
    /// Labels whose values had escapes, so are not in the body as they read.
    escaped: Vec<(IstioLabel, String)>,
    interner: &'d mut LabelInterner,
    samples: &'d mut Vec<TrafficSample>,
    error: Option<SampleError>,
}

impl<'a> SeriesSink<'a> for SampleSink<'a, '_> {
    type Key = Option<IstioLabel>;

    fn key(&mut self, name: Text<'a>) -> Option<IstioLabel> {
        IstioLabel::from_name(name.as_bytes())
    }

    #[inline]
    fn label(&mut self, key: &Option<IstioLabel>, value: Text<'a>) {
        let Some(label) = *key else { return };
        // A name given twice keeps its last value.
        if !self.escaped.is_empty() {
            self.escaped.retain(|(other, _)| *other != label);
        }
        match value {
            Text::Raw(bytes) => self.labels.set_bytes(label, bytes),
            Text::Unescaped(text) => {
                self.labels.remove(label);
                self.escaped.push((label, text));
            }
        }
    }

    fn series(&mut self, index: usize, _timestamp_s: f64, value: f64) {
        if self.error.is_none() {
            let made = if self.escaped.is_empty() {
                sample_of(self.kind, index, &self.labels, value, self.interner)
            } else {
                let mut labels: IstioLabels<'_> = self.labels;
                for (label, text) in &self.escaped {
                    labels.set(*label, text);
                }
                sample_of(self.kind, index, &labels, value, self.interner)
            };
            match made {
                Ok(sample) => self.samples.push(sample),
                Err(error) => self.error = Some(error),
            }
        }
        self.discard();
    }

    fn discard(&mut self) {
        self.labels.clear();
        self.escaped.clear();
    }
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

#[cfg(test)]
#[path = "samples_tests.rs"]
mod streaming_tests;
