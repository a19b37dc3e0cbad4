//! Decoding of the Prometheus HTTP API's instant-query answers (`/api/v1/query`).
//!
//! Anything that is not a well-formed answer is refused with an error that says what was
//! wrong, so a proxy's HTML error page, a truncated body or a matrix where a vector was
//! expected never turns into an empty or half graph.
//!
//! The series go straight to a [`SeriesSink`] as they are read, with their strings still in
//! the body: a map per series cost more than everything else together on a large answer.

use std::collections::BTreeMap;

use thiserror::Error;

use super::json::{decimal, Problem, Reader, Text};

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

/// Receives the series of an answer while it is read.
pub(super) trait SeriesSink<'a> {
    /// What the sink keeps of a label name. Series repeat their label names in the same
    /// order, so this is asked once per name and position, not once per series.
    type Key: Clone;

    fn key(&mut self, name: Text<'a>) -> Self::Key;

    /// A label of the series being read.
    fn label(&mut self, key: &Self::Key, value: Text<'a>);

    /// The series whose labels came since the last call is complete.
    fn series(&mut self, index: usize, timestamp_s: f64, value: f64);

    /// The series whose labels came since the last call is dropped: the answer is refused.
    fn discard(&mut self);
}

/// Decodes an instant-query answer into its series.
pub fn decode_vector(body: &[u8]) -> Result<Vec<VectorSample>, DecodeError> {
    let mut sink = VectorSink::default();
    decode_series(body, &mut sink)?;
    Ok(sink.series)
}

#[derive(Default)]
struct VectorSink {
    labels: BTreeMap<String, String>,
    series: Vec<VectorSample>,
}

impl<'a> SeriesSink<'a> for VectorSink {
    type Key = String;

    fn key(&mut self, name: Text<'a>) -> String {
        name.into_string()
    }

    fn label(&mut self, key: &String, value: Text<'a>) {
        // A name given twice keeps its last value, as a JSON object read into a map does.
        self.labels.insert(key.clone(), value.into_string());
    }

    fn series(&mut self, _index: usize, timestamp_s: f64, value: f64) {
        self.series.push(VectorSample {
            labels: std::mem::take(&mut self.labels),
            timestamp_s,
            value,
        });
    }

    fn discard(&mut self) {
        self.labels.clear();
    }
}

/// Reads an answer, handing its series to `sink`.
///
/// What is wrong is reported in this order, whatever the order of the fields: not JSON; an
/// envelope of the wrong shape; Prometheus's own error; no data; not a vector; a series of
/// the wrong shape; the first value that is not a number.
pub(super) fn decode_series<'a, S: SeriesSink<'a>>(
    body: &'a [u8],
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut reader = Reader::new(body);
    let envelope = read_envelope(&mut reader, sink).map_err(|p| error_of(&reader, p))?;
    let status = envelope
        .status
        .ok_or_else(|| DecodeError::Shape("missing field `status`".into()))?;
    if status != "success" {
        return Err(DecodeError::Refused {
            error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            message: envelope
                .error
                .unwrap_or_else(|| format!("status {status:?}")),
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| DecodeError::Shape("a successful answer without \"data\"".into()))?;
    if data.result_type != "vector" {
        return Err(DecodeError::NotAVector(data.result_type));
    }
    let problem = match data.result {
        ResultRead::Read(problem) => problem,
        // The status or type came after the result: read it now that both are known.
        ResultRead::Later(start) => {
            let mut reader = Reader::at(body, start);
            read_result(&mut reader, sink).map_err(|p| error_of(&reader, p))?
        }
    };
    problem.map_or(Ok(()), Err)
}

fn error_of(reader: &Reader<'_>, problem: Problem) -> DecodeError {
    match problem {
        Problem::Syntax { at, what } => {
            DecodeError::NotJson(format!("{what} at {}", reader.position(at)))
        }
        Problem::Shape(message) => DecodeError::Shape(message),
    }
}

struct Envelope {
    status: Option<String>,
    data: Option<Data>,
    error_type: Option<String>,
    error: Option<String>,
}

struct Data {
    result_type: String,
    result: ResultRead,
}

enum ResultRead {
    /// Read into the sink; the first problem of a series, if any.
    Read(Option<DecodeError>),
    /// Skipped for now; where it starts.
    Later(usize),
}

fn duplicate(field: &str) -> Problem {
    Problem::Shape(format!("duplicate field `{field}`"))
}

fn optional_string(reader: &mut Reader<'_>) -> Result<Option<String>, Problem> {
    if reader.null() {
        return Ok(None);
    }
    reader.string().map(|text| Some(text.into_string()))
}

fn read_envelope<'a, S: SeriesSink<'a>>(
    reader: &mut Reader<'a>,
    sink: &mut S,
) -> Result<Envelope, Problem> {
    let mut envelope = Envelope {
        status: None,
        data: None,
        error_type: None,
        error: None,
    };
    let mut seen_data = false;
    if reader.begin_object()? {
        loop {
            let key = reader.key()?;
            match key.as_bytes() {
                b"status" if envelope.status.is_some() => return Err(duplicate("status")),
                b"status" => envelope.status = Some(reader.string()?.into_string()),
                b"data" if seen_data => return Err(duplicate("data")),
                b"data" => {
                    seen_data = true;
                    if !reader.null() {
                        let success = envelope.status.as_deref().map(|s| s == "success");
                        envelope.data = Some(read_data(reader, success, sink)?);
                    }
                }
                b"errorType" if envelope.error_type.is_some() => {
                    return Err(duplicate("errorType"))
                }
                b"errorType" => envelope.error_type = optional_string(reader)?,
                b"error" if envelope.error.is_some() => return Err(duplicate("error")),
                b"error" => envelope.error = optional_string(reader)?,
                _ => reader.skip_value()?,
            }
            if !reader.next_member()? {
                break;
            }
        }
    }
    reader.end()?;
    Ok(envelope)
}

/// `success`: whether the status said so, `None` while no status was read.
fn read_data<'a, S: SeriesSink<'a>>(
    reader: &mut Reader<'a>,
    success: Option<bool>,
    sink: &mut S,
) -> Result<Data, Problem> {
    let mut result_type: Option<String> = None;
    let mut result: Option<ResultRead> = None;
    if reader.begin_object()? {
        loop {
            let key = reader.key()?;
            match key.as_bytes() {
                b"resultType" if result_type.is_some() => return Err(duplicate("resultType")),
                b"resultType" => result_type = Some(reader.string()?.into_string()),
                b"result" if result.is_some() => return Err(duplicate("result")),
                b"result" => {
                    let vector = result_type.as_deref().map(|t| t == "vector");
                    reader.peek();
                    let start = reader.pos();
                    result = Some(match (success, vector) {
                        (Some(true), Some(true)) => ResultRead::Read(read_result(reader, sink)?),
                        (Some(false), _) | (_, Some(false)) => {
                            // Refused or not a vector: never read.
                            reader.skip_value()?;
                            ResultRead::Read(None)
                        }
                        _ => {
                            reader.skip_value()?;
                            ResultRead::Later(start)
                        }
                    });
                }
                _ => reader.skip_value()?,
            }
            if !reader.next_member()? {
                break;
            }
        }
    }
    Ok(Data {
        result_type: result_type
            .ok_or_else(|| Problem::Shape("missing field `resultType`".into()))?,
        result: result.ok_or_else(|| Problem::Shape("missing field `result`".into()))?,
    })
}

/// The `result` array: series go to the sink. A series of the wrong shape or a value that is
/// not a number is returned as the answer's problem once the rest is known to be JSON.
fn read_result<'a, S: SeriesSink<'a>>(
    reader: &mut Reader<'a>,
    sink: &mut S,
) -> Result<Option<DecodeError>, Problem> {
    reader.peek();
    let start = reader.pos();
    match read_series_list(reader, sink) {
        Ok(bad_value) => Ok(bad_value),
        Err(Problem::Shape(message)) => {
            sink.discard();
            // Whatever follows must still be JSON: read it again, only checking.
            reader.rewind(start);
            reader.skip_value()?;
            Ok(Some(DecodeError::Shape(format!(
                "in \"result\": {message}"
            ))))
        }
        Err(syntax) => Err(syntax),
    }
}

/// Label names of the series before, by position: where the next series has the same name
/// at the same place, comparing its bytes is all it costs.
struct KeyCache<K> {
    /// Where `"name":"` lies in the body (up to the value's opening quote), and the sink's
    /// key for the name. Only plain, compact names are kept, as Prometheus writes them.
    at: Vec<(usize, usize, K)>,
}

fn read_series_list<'a, S: SeriesSink<'a>>(
    reader: &mut Reader<'a>,
    sink: &mut S,
) -> Result<Option<DecodeError>, Problem> {
    let mut bad_value = None;
    let mut keys = KeyCache { at: Vec::new() };
    if !reader.begin_array()? {
        return Ok(None);
    }
    let mut index = 0;
    loop {
        read_series(reader, sink, &mut keys, index, &mut bad_value).map_err(
            |problem| match problem {
                Problem::Shape(message) => Problem::Shape(format!("series {index}: {message}")),
                syntax => syntax,
            },
        )?;
        index += 1;
        if !reader.next_element()? {
            return Ok(bad_value);
        }
    }
}

fn read_series<'a, S: SeriesSink<'a>>(
    reader: &mut Reader<'a>,
    sink: &mut S,
    keys: &mut KeyCache<S::Key>,
    index: usize,
    bad_value: &mut Option<DecodeError>,
) -> Result<(), Problem> {
    let mut metric = false;
    let mut sample: Option<(f64, Text<'a>)> = None;
    if reader.begin_object()? {
        loop {
            let key = reader.key()?;
            match key.as_bytes() {
                b"metric" if metric => return Err(duplicate("metric")),
                b"metric" => {
                    read_metric(reader, sink, keys)?;
                    metric = true;
                }
                b"value" if sample.is_some() => return Err(duplicate("value")),
                b"value" => sample = Some(read_sample(reader)?),
                _ => reader.skip_value()?,
            }
            if !reader.next_member()? {
                break;
            }
        }
    }
    if !metric {
        return Err(Problem::Shape("missing field `metric`".into()));
    }
    let Some((timestamp_s, text)) = sample else {
        return Err(Problem::Shape("missing field `value`".into()));
    };
    match parse_value(text.as_bytes()) {
        Some(value) if bad_value.is_none() => sink.series(index, timestamp_s, value),
        Some(_) => sink.discard(),
        None => {
            sink.discard();
            if bad_value.is_none() {
                *bad_value = Some(DecodeError::BadValue {
                    index,
                    value: text.into_string(),
                });
            }
        }
    }
    Ok(())
}

/// `[timestamp, "value"]`.
fn read_sample<'a>(reader: &mut Reader<'a>) -> Result<(f64, Text<'a>), Problem> {
    let length = |found: &str| {
        Problem::Shape(format!(
            "expected a timestamp and a value, found {found} elements"
        ))
    };
    if !reader.begin_array()? {
        return Err(length("no"));
    }
    let timestamp_s = reader.number()?;
    if !reader.next_element()? {
        return Err(length("1"));
    }
    let value = reader.string()?;
    if reader.next_element()? {
        return Err(length("more"));
    }
    Ok((timestamp_s, value))
}

fn read_metric<'a, S: SeriesSink<'a>>(
    reader: &mut Reader<'a>,
    sink: &mut S,
    keys: &mut KeyCache<S::Key>,
) -> Result<(), Problem> {
    if !reader.begin_object()? {
        return Ok(());
    }
    let mut position = 0;
    loop {
        let (key, value) = match keys.at.get(position) {
            Some((start, end, key)) if reader.eat_same(*start, *end) => {
                let value = reader.string_rest();
                (key.clone(), value)
            }
            _ => {
                reader.peek();
                let start = reader.pos();
                let name = reader.key_name()?;
                let plain = matches!(name, Text::Raw(_));
                let key = sink.key(name);
                let name_end = reader.pos();
                reader.expect(b':', "expected `:`")?;
                let compact = reader.pos() == name_end + 1 && reader.peek() == Some(b'"');
                if plain && compact {
                    let entry = (start, reader.pos() + 1, key.clone());
                    match keys.at.get_mut(position) {
                        Some(slot) => *slot = entry,
                        None => keys.at.push(entry),
                    }
                }
                let value = reader.string().map_err(|problem| match problem {
                    Problem::Shape(message) => Problem::Shape(format!(
                        "label {}: {message}",
                        reader.text_between(start, name_end)
                    )),
                    syntax => syntax,
                });
                (key, value)
            }
        };
        sink.label(&key, value?);
        position += 1;
        if !reader.next_member()? {
            return Ok(());
        }
    }
}

/// Prometheus writes sample values as strings, including `NaN`, `+Inf` and `-Inf`.
fn parse_value(text: &[u8]) -> Option<f64> {
    match text {
        b"NaN" => Some(f64::NAN),
        b"+Inf" | b"Inf" => Some(f64::INFINITY),
        b"-Inf" => Some(f64::NEG_INFINITY),
        _ => decimal(text).filter(|v| v.is_finite()),
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
