//! Decoding of the Prometheus HTTP API's instant-query answers (`/api/v1/query`).
//!
//! Anything that is not a well-formed answer is refused with an error that says what was
//! wrong, so a proxy's HTML error page, a truncated body or a matrix where a vector was
//! expected never turns into an empty or half graph.

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

/// One series of an instant vector: its labels and its value at the query time.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSample {
    pub labels: BTreeMap<String, String>,
    pub timestamp_s: f64,
    pub value: f64,
}

#[derive(Debug, Error, PartialEq)]
pub enum DecodeError {
    #[error("Prometheus answered with something that is not JSON ({0})")]
    NotJson(String),
    #[error("Prometheus's answer is not shaped like an API response: {0}")]
    Shape(String),
    #[error("Prometheus refused the query ({error_type}): {message}")]
    Refused { error_type: String, message: String },
    #[error("expected an instant vector, Prometheus answered a {0}")]
    NotAVector(String),
    #[error("series {index} has a value that is not a number: {value:?}")]
    BadValue { index: usize, value: String },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    status: String,
    #[serde(default, borrow)]
    data: Option<Data<'a>>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(rename = "resultType")]
    result_type: String,
    /// Kept as raw text and parsed straight into series once the type is known: building a
    /// `Value` tree first doubled the cost of a large answer.
    #[serde(borrow)]
    result: &'a serde_json::value::RawValue,
}

#[derive(Deserialize)]
struct RawSeries {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

/// Decodes an instant-query answer into its series.
pub fn decode_vector(body: &[u8]) -> Result<Vec<VectorSample>, DecodeError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            DecodeError::NotJson(e.to_string())
        } else {
            DecodeError::Shape(e.to_string())
        }
    })?;
    if envelope.status != "success" {
        return Err(DecodeError::Refused {
            error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            message: envelope
                .error
                .unwrap_or_else(|| format!("status {:?}", envelope.status)),
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| DecodeError::Shape("a successful answer without \"data\"".into()))?;
    if data.result_type != "vector" {
        return Err(DecodeError::NotAVector(data.result_type));
    }
    let series: Vec<RawSeries> = serde_json::from_str(data.result.get())
        .map_err(|e| DecodeError::Shape(format!("in \"result\": {e}")))?;
    series
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let value = parse_value(&raw.value.1).ok_or_else(|| DecodeError::BadValue {
                index,
                value: raw.value.1.clone(),
            })?;
            Ok(VectorSample {
                labels: raw.metric,
                timestamp_s: raw.value.0,
                value,
            })
        })
        .collect()
}

/// Prometheus writes sample values as strings, including `NaN`, `+Inf` and `-Inf`.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"source_workload":"productpage-v1","response_code":"200"},"value":[1795557600,"3.4"]},
        {"metric":{},"value":[1795557600.5,"NaN"]}]}}"#;

    #[test]
    fn an_instant_vector_decodes_into_labelled_values() {
        let series = decode_vector(GOOD.as_bytes()).unwrap();
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].labels["source_workload"], "productpage-v1");
        assert_eq!(series[0].value, 3.4);
        assert_eq!(series[0].timestamp_s, 1_795_557_600.0);
        assert!(series[1].value.is_nan());
    }

    #[test]
    fn an_empty_vector_is_an_empty_answer_not_an_error() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(decode_vector(body.as_bytes()).unwrap(), vec![]);
    }

    #[test]
    fn malformed_answers_are_refused_with_a_reason() {
        type Case<'a> = (&'a str, &'a str, fn(&DecodeError) -> bool);
        let cases: [Case; 8] = [
            ("an HTML error page", "<html>502 Bad Gateway</html>", |e| {
                matches!(e, DecodeError::NotJson(_))
            }),
            ("a truncated body", &GOOD[..GOOD.len() - 10], |e| {
                matches!(e, DecodeError::NotJson(_))
            }),
            ("an empty body", "", |e| {
                matches!(e, DecodeError::NotJson(_))
            }),
            (
                "a refused query",
                r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#,
                |e| matches!(e, DecodeError::Refused { error_type, message } if error_type == "bad_data" && message.contains("parse error")),
            ),
            (
                "a matrix",
                r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
                |e| matches!(e, DecodeError::NotAVector(t) if t == "matrix"),
            ),
            (
                "a value that is no number",
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"fast"]}]}}"#,
                |e| matches!(e, DecodeError::BadValue { index: 0, .. }),
            ),
            (
                "a label that is not a string",
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}"#,
                |e| matches!(e, DecodeError::Shape(_)),
            ),
            ("success without data", r#"{"status":"success"}"#, |e| {
                matches!(e, DecodeError::Shape(_))
            }),
        ];
        for (name, body, expected) in cases {
            let error = decode_vector(body.as_bytes()).unwrap_err();
            assert!(expected(&error), "{name}: {error:?}");
            assert!(!error.to_string().is_empty());
        }
    }
}
