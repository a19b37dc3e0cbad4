//! The decoder that reads answers straight into samples, against decoding into label maps
//! first: the same samples, and the same refusals for the same reasons.

use super::*;
use crate::mesh::{PeerLabels, Protocol, SecurityPolicy};
use crate::source::prometheus::decode::decode_vector;

fn through_maps(kind: QueryKind, body: &str) -> Result<Vec<TrafficSample>, AnswerError> {
    let series = decode_vector(body.as_bytes())?;
    Ok(samples_from_answer(kind, &series)?)
}

fn streamed(kind: QueryKind, body: &str) -> Result<Vec<TrafficSample>, AnswerError> {
    decode_samples(kind, body.as_bytes())
}

fn answer(series: &[String]) -> String {
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
        series.join(",")
    )
}

fn series(metric: &str, value: &str) -> String {
    format!(r#"{{"metric":{{{metric}}},"value":[1795557600.123,"{value}"]}}"#)
}

/// A destination-reported hop with Istio's labels, in Prometheus's (sorted) order.
fn hop(source: &str, destination: &str, outcome: &str) -> String {
    format!(
        r#""connection_security_policy":"mutual_tls","destination_app":"{destination}","destination_canonical_revision":"v1","destination_canonical_service":"{destination}","destination_cluster":"east","destination_principal":"spiffe://cluster.local/ns/bookinfo/sa/{destination}","destination_service":"{destination}.bookinfo.svc.cluster.local","destination_service_name":"{destination}","destination_service_namespace":"bookinfo","destination_version":"v1","destination_workload":"{destination}-v1","destination_workload_namespace":"bookinfo",{outcome},"reporter":"destination","request_protocol":"http","source_app":"{source}","source_canonical_revision":"v1","source_canonical_service":"{source}","source_cluster":"east","source_version":"v1","source_workload":"{source}-v1","source_workload_namespace":"bookinfo""#
    )
}

const OK: &str = r#""response_code":"200","response_flags":"-""#;

#[test]
fn answers_read_straight_into_samples_give_the_samples_label_maps_give() {
    let requests = answer(&[
        series(&hop("productpage", "reviews", OK), "12.5"),
        series(&hop("productpage", "ratings", OK), "3"),
        series(
            &hop(
                "productpage",
                "reviews",
                r#""grpc_response_status":"14","response_code":"503","response_flags":"UO""#,
            ),
            "0.25",
        ),
        // Another order, labels missing, one unknown, and a name given twice (the last wins).
        series(
            r#""response_code":"404","reporter":"source","unknown_label":"x","source_workload":"first","source_workload":"curl","destination_service":"api.example.com""#,
            "1",
        ),
        // Escapes in values and in a name, text beyond ASCII, and back to the usual order.
        escaped_series(),
        series(&hop("details", "reviews", OK), "-Inf"),
        series(&hop("details", "reviews", OK), "+Inf"),
    ]);
    let latency = answer(&[
        series(&format!("{},\"quantile\":\"0.5\"", hop("a", "b", OK)), "12"),
        series(
            &format!("{},\"quantile\":\"0.99\"", hop("a", "b", OK)),
            "80.5",
        ),
        series(
            &format!("\"quantile\":\"0.95\",{}", hop("b", "a", OK)),
            "40",
        ),
    ]);
    let tcp = answer(&[series(&hop("mongo-client", "mongodb", ""), "4096")]).replace(",,", ",");
    let cases = [
        (QueryKind::Requests, requests.clone()),
        (QueryKind::LatencyQuantiles, latency),
        (QueryKind::TcpSentBytes, tcp.clone()),
        (QueryKind::TcpReceivedBytes, tcp),
        // Formatted with whitespace everywhere JSON allows it.
        (
            QueryKind::Requests,
            requests
                .replace("\",", "\" ,\n ")
                .replace("\":", "\" :\t")
                .replace("],", "] ,")
                .replace('{', "{ ")
                .replace('}', "\r\n}"),
        ),
    ];
    for (kind, body) in cases {
        let samples = streamed(kind, &body);
        assert!(
            samples.as_ref().is_ok_and(|s| !s.is_empty()),
            "{kind:?}: {samples:?}"
        );
        assert_eq!(samples, through_maps(kind, &body), "{kind:?}: {body}");
    }
    let samples = streamed(QueryKind::Requests, &answer(&[escaped_series()])).unwrap();
    assert_eq!(samples[0].labels.source.workload, "café \"v1\"");
    assert_eq!(samples[0].labels.source.app, "café");
    // NaN, which equals nothing, is read too.
    let nan = answer(&[series(&hop("details", "reviews", OK), "NaN")]);
    assert!(streamed(QueryKind::Requests, &nan).unwrap()[0]
        .value
        .is_nan());
}

fn escaped_series() -> String {
    series(
        &hop("productpage", "reviews", OK)
            .replace(
                "\"source_workload\":\"productpage-v1\"",
                r#""source_\u0077orkload":"caf\u00e9 \"v1\"""#,
            )
            .replace(
                "\"source_canonical_service\":\"productpage\"",
                "\"source_canonical_service\":\"café\"",
            ),
        "2",
    )
}

#[test]
fn a_series_makes_the_sample_its_labels_say() {
    let body = answer(&[series(
        &hop(
            "productpage",
            "reviews",
            r#""grpc_response_status":"14","response_code":"503","response_flags":"UO","request_operation":"GET /reviews""#,
        ),
        "0.25",
    )]);
    let samples = streamed(QueryKind::Requests, &body).unwrap();
    let labels = &samples[0].labels;
    assert_eq!(samples[0].kind, SampleKind::Requests);
    assert_eq!(samples[0].value, 0.25);
    assert_eq!(labels.reporter, Reporter::Destination);
    assert_eq!(
        *labels.source,
        PeerLabels {
            cluster: "east".into(),
            namespace: "bookinfo".into(),
            workload: "productpage-v1".into(),
            app: "productpage".into(),
            version: "v1".into(),
        }
    );
    assert_eq!(labels.destination.workload, "reviews-v1");
    assert_eq!(
        labels.destination_service,
        "reviews.bookinfo.svc.cluster.local"
    );
    assert_eq!(labels.destination_service_name, "reviews");
    assert_eq!(labels.destination_service_namespace, "bookinfo");
    assert_eq!(labels.protocol, Protocol::Http);
    assert_eq!(labels.response_code, 503);
    assert_eq!(labels.grpc_status, Some(14));
    assert_eq!(labels.response_flags, "UO");
    assert_eq!(labels.security, SecurityPolicy::MutualTls);
    assert_eq!(labels.operation.as_deref(), Some("GET /reviews"));
}

#[test]
fn the_fields_of_an_answer_may_come_in_any_order() {
    let result = format!(
        "[{}]",
        series(&format!("{},\"quantile\":\"0.5\"", hop("a", "b", OK)), "12")
    );
    let usual =
        format!(r#"{{"status":"success","data":{{"resultType":"vector","result":{result}}}}}"#);
    let reordered = format!(
        r#"{{"warnings":["slow"],"data":{{"result":{result},"resultType":"vector"}},"status":"success"}}"#
    );
    let kind = QueryKind::LatencyQuantiles;
    assert_eq!(streamed(kind, &reordered), streamed(kind, &usual));
    assert_eq!(streamed(kind, &usual).map(|s| s.len()), Ok(1));
}

#[test]
fn both_ways_refuse_an_answer_for_the_same_reason() {
    type Check = fn(&AnswerError) -> bool;
    let good = series(&hop("a", "b", OK), "1");
    let one_good = answer(std::slice::from_ref(&good));
    let no_reporter = series(r#""response_code":"200""#, "1");
    let fast = series(&hop("a", "b", OK), "fast");
    let numeric_label = series(r#""reporter":"source","response_code":200"#, "1");
    let cases: Vec<(&str, QueryKind, String, Check)> = vec![
        (
            "an HTML page",
            QueryKind::Requests,
            "<html>502</html>".into(),
            |e| matches!(e, AnswerError::Decode(DecodeError::NotJson(_))),
        ),
        (
            "a body cut short",
            QueryKind::Requests,
            one_good[..60].into(),
            |e| matches!(e, AnswerError::Decode(DecodeError::NotJson(_))),
        ),
        (
            "more after the answer",
            QueryKind::Requests,
            format!("{one_good}]"),
            |e| matches!(e, AnswerError::Decode(DecodeError::NotJson(m)) if m.contains("trailing")),
        ),
        (
            "a lone surrogate in a label value",
            QueryKind::Requests,
            answer(&[series(r#""reporter":"source","response_code":"200","source_workload":"\ud800""#, "1")]),
            |e| matches!(e, AnswerError::Decode(DecodeError::NotJson(_))),
        ),
        (
            "nesting deeper than anyone writes",
            QueryKind::Requests,
            one_good.replacen('{', &format!("{{\"x\":{}0{},", "[".repeat(200), "]".repeat(200)), 1),
            |e| matches!(e, AnswerError::Decode(DecodeError::NotJson(m)) if m.contains("recursion")),
        ),
        (
            "an error with a result, the status last",
            QueryKind::Requests,
            r#"{"data":{"resultType":"vector","result":[{"metric":{}}]},"errorType":"timeout","error":"query timed out","status":"error"}"#.into(),
            |e| matches!(e, AnswerError::Decode(DecodeError::Refused { error_type, .. }) if error_type == "timeout"),
        ),
        (
            "a matrix",
            QueryKind::Requests,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]}}"#.into(),
            |e| matches!(e, AnswerError::Decode(DecodeError::NotAVector(t)) if t == "matrix"),
        ),
        (
            "data that is null",
            QueryKind::Requests,
            r#"{"status":"success","data":null}"#.into(),
            |e| matches!(e, AnswerError::Decode(DecodeError::Shape(_))),
        ),
        (
            "a value of three elements",
            QueryKind::Requests,
            one_good.replace(r#""1"]"#, r#""1",2]"#),
            |e| matches!(e, AnswerError::Decode(DecodeError::Shape(m)) if m.contains("series 0")),
        ),
        (
            "a timestamp in quotes",
            QueryKind::Requests,
            one_good.replace("1795557600.123", "\"1795557600\""),
            |e| matches!(e, AnswerError::Decode(DecodeError::Shape(_))),
        ),
        (
            "a series without its value",
            QueryKind::Requests,
            answer(&[good.clone(), r#"{"metric":{}}"#.into()]),
            |e| matches!(e, AnswerError::Decode(DecodeError::Shape(m)) if m.contains("series 1") && m.contains("value")),
        ),
        (
            "a series with two metrics",
            QueryKind::Requests,
            answer(&[r#"{"metric":{},"metric":{},"value":[1,"1"]}"#.into()]),
            |e| matches!(e, AnswerError::Decode(DecodeError::Shape(m)) if m.contains("duplicate")),
        ),
        (
            "a bad value first, a series of the wrong shape later: the shape is reported",
            QueryKind::Requests,
            answer(&[good.clone(), fast.clone(), good.clone(), numeric_label.clone()]),
            |e| matches!(e, AnswerError::Decode(DecodeError::Shape(m)) if m.contains("series 3") && m.contains("response_code")),
        ),
        (
            "no reporter first, a bad value later: the value is reported",
            QueryKind::Requests,
            answer(&[no_reporter.clone(), good.clone(), fast.clone()]),
            |e| matches!(e, AnswerError::Decode(DecodeError::BadValue { index: 2, value }) if value == "fast"),
        ),
        (
            "no reporter, then a bad response code: the first is reported",
            QueryKind::Requests,
            answer(&[good.clone(), no_reporter, series(&hop("a", "b", r#""response_code":"2xx""#), "1")]),
            |e| matches!(e, AnswerError::Samples(SampleError::Reporter { index: 1, found: None, .. })),
        ),
        (
            "a percentile meshtui does not show",
            QueryKind::LatencyQuantiles,
            answer(&[series(&format!("{},\"quantile\":\"0.9\"", hop("a", "b", OK)), "3")]),
            |e| matches!(e, AnswerError::Samples(SampleError::Quantile { index: 0, found: Some(q) }) if q == "0.9"),
        ),
        (
            "requests without a response code",
            QueryKind::Requests,
            answer(&[series(r#""reporter":"source""#, "1")]),
            |e| matches!(e, AnswerError::Samples(SampleError::Label { source: LabelError::Missing { label: "response_code", .. }, .. })),
        ),
    ];
    for (name, kind, body, expected) in cases {
        let error = streamed(kind, &body).unwrap_err();
        assert!(expected(&error), "{name}: {error:?}");
        assert_eq!(Err(error), through_maps(kind, &body), "{name}");
    }
    let mut bytes = answer(&[good]).into_bytes();
    let at = bytes.windows(2).position(|w| w == b"a-").unwrap();
    bytes[at] = 0xff;
    assert!(matches!(
        decode_samples(QueryKind::Requests, &bytes),
        Err(AnswerError::Decode(DecodeError::NotJson(m))) if m.contains("UTF-8")
    ));
}

#[test]
fn a_refused_answer_adds_nothing_to_the_answers_decoded_before() {
    let mut decoder = SampleDecoder::new();
    let good = answer(&[series(&hop("a", "b", OK), "1")]);
    decoder
        .decode(QueryKind::Requests, good.as_bytes())
        .unwrap();
    let bad = answer(&[
        series(&hop("a", "b", OK), "1"),
        series(&hop("a", "b", OK), "x"),
    ]);
    assert!(decoder.decode(QueryKind::Requests, bad.as_bytes()).is_err());
    decoder
        .decode(QueryKind::Requests, good.as_bytes())
        .unwrap();
    let samples = decoder.finish();
    assert_eq!(samples.len(), 2);
    // The answers of one decoder share their peers.
    assert!(std::sync::Arc::ptr_eq(
        &samples[0].labels.source,
        &samples[1].labels.source
    ));
}
