use hyper::body::Bytes;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, StatusCode};

use crate::mesh::{PeerLabels, Protocol, Reporter, SampleLabels, SecurityPolicy};
use crate::source::demo::{DemoMesh, DemoOptions, SeriesCounters};

use super::exposition::{escape_label_value, render_exposition};
use super::{render_metrics, respond};

fn gateway_to_productpage(reporter: Reporter) -> SampleLabels {
    let gateway = PeerLabels {
        cluster: "Kubernetes".into(),
        namespace: "istio-system".into(),
        workload: "istio-ingressgateway".into(),
        app: "istio-ingressgateway".into(),
        version: String::new(),
    };
    SampleLabels {
        reporter,
        security: if reporter == Reporter::Destination {
            SecurityPolicy::MutualTls
        } else {
            SecurityPolicy::Unknown
        },
        operation: Some("GET /productpage".into()),
        ..SampleLabels::between(
            gateway,
            PeerLabels::workload("bookinfo", "productpage", "v1"),
            "productpage.bookinfo.svc.cluster.local",
        )
    }
}

fn counters(requests: f64) -> SeriesCounters {
    let mut counters = SeriesCounters {
        requests,
        duration_sum_ms: requests * 12.5,
        ..SeriesCounters::default()
    };
    for (index, bucket) in counters.duration_buckets.iter_mut().enumerate() {
        *bucket = requests * (index as f64 / 4.0).min(1.0);
    }
    counters
}

fn lines_of<'a>(text: &'a str, metric: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .collect()
}

#[test]
fn a_request_series_carries_the_full_istio_label_set_in_the_stats_filter_order() {
    let labels = gateway_to_productpage(Reporter::Destination);
    let text = render_exposition([(&labels, &counters(40.0))], |_| true);
    let requests = lines_of(&text, "istio_requests_total");
    assert_eq!(
        requests,
        [concat!(
            "istio_requests_total{reporter=\"destination\",",
            "source_workload=\"istio-ingressgateway\",source_workload_namespace=\"istio-system\",",
            "source_principal=\"spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway\",",
            "source_app=\"istio-ingressgateway\",source_version=\"\",",
            "source_canonical_service=\"istio-ingressgateway\",source_canonical_revision=\"latest\",",
            "source_cluster=\"Kubernetes\",",
            "destination_workload=\"productpage-v1\",destination_workload_namespace=\"bookinfo\",",
            "destination_principal=\"spiffe://cluster.local/ns/bookinfo/sa/productpage\",",
            "destination_app=\"productpage\",destination_version=\"v1\",",
            "destination_service=\"productpage.bookinfo.svc.cluster.local\",",
            "destination_service_name=\"productpage\",destination_service_namespace=\"bookinfo\",",
            "destination_canonical_service=\"productpage\",destination_canonical_revision=\"v1\",",
            "destination_cluster=\"Kubernetes\",request_protocol=\"http\",response_flags=\"-\",",
            "connection_security_policy=\"mutual_tls\",response_code=\"200\",",
            "request_operation=\"GET /productpage\"} 40"
        )]
    );
    assert!(text.contains("# TYPE istio_requests_total counter\n"));
    assert!(text.contains("# TYPE istio_request_duration_milliseconds histogram\n"));
    assert!(text.contains("# TYPE istio_tcp_sent_bytes_total counter\n"));
    assert!(text.contains("# TYPE istio_tcp_received_bytes_total counter\n"));
}

#[test]
fn principals_are_unknown_without_mutual_tls() {
    let labels = gateway_to_productpage(Reporter::Source);
    let text = render_exposition([(&labels, &counters(1.0))], |_| false);
    let line = lines_of(&text, "istio_requests_total").join("\n");
    assert!(line.contains("source_principal=\"unknown\""), "{line}");
    assert!(line.contains("destination_principal=\"unknown\""), "{line}");
    assert!(
        line.contains("connection_security_policy=\"unknown\""),
        "{line}"
    );
}

#[test]
fn label_values_escape_backslashes_quotes_and_newlines() {
    let mut escaped = String::new();
    escape_label_value(&mut escaped, "a\\b\"c\nd");
    assert_eq!(escaped, "a\\\\b\\\"c\\nd");

    let mut labels = gateway_to_productpage(Reporter::Source);
    labels.operation = Some("GET /say?\"hi\"\n".into());
    let text = render_exposition([(&labels, &counters(1.0))], |_| false);
    assert!(text.contains("request_operation=\"GET /say?\\\"hi\\\"\\n\"} 1\n"));
}

#[test]
fn the_histogram_has_envoys_bounds_without_trailing_zeros_then_inf_sum_and_count() {
    let labels = gateway_to_productpage(Reporter::Destination);
    let text = render_exposition([(&labels, &counters(8.0))], |_| true);
    let bounds: Vec<&str> = lines_of(&text, "istio_request_duration_milliseconds_bucket")
        .iter()
        .filter_map(|line| line.split(",le=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        bounds,
        [
            "0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000",
            "10000", "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf"
        ]
    );
    let values: Vec<&str> = lines_of(&text, "istio_request_duration_milliseconds_bucket")
        .iter()
        .filter_map(|line| line.rsplit(' ').next())
        .collect();
    assert_eq!(values[..5], ["0", "2", "4", "6", "8"]);
    assert_eq!(values.last(), Some(&"8"));
    assert!(lines_of(&text, "istio_request_duration_milliseconds_sum")[0].ends_with("} 100"));
    assert!(lines_of(&text, "istio_request_duration_milliseconds_count")[0].ends_with("} 8"));
}

#[test]
fn a_bucket_a_rounding_error_above_the_count_is_capped_at_the_count() {
    let labels = gateway_to_productpage(Reporter::Destination);
    let mut noisy = counters(3.0);
    noisy.duration_buckets[18] = 3.000_000_000_000_001;
    let text = render_exposition([(&labels, &noisy)], |_| true);
    let le_max = lines_of(&text, "istio_request_duration_milliseconds_bucket")
        .into_iter()
        .find(|line| line.contains("le=\"3600000\""))
        .unwrap_or_default();
    assert!(le_max.ends_with("} 3"), "{le_max}");
}

#[test]
fn series_a_proxy_cannot_tell_apart_are_counted_in_one() {
    let labels = gateway_to_productpage(Reporter::Destination);
    let text = render_exposition(
        [(&labels, &counters(2.0)), (&labels, &counters(3.0))],
        |_| true,
    );
    let requests = lines_of(&text, "istio_requests_total");
    assert_eq!(requests.len(), 1);
    assert!(requests[0].ends_with("} 5"), "{}", requests[0]);
    let count = lines_of(&text, "istio_request_duration_milliseconds_count");
    assert_eq!(count.len(), 1);
    assert!(count[0].ends_with("} 5"));
}

#[test]
fn grpc_series_carry_their_status_and_plain_http_series_omit_it() {
    let mut grpc = gateway_to_productpage(Reporter::Destination);
    grpc.protocol = Protocol::Grpc;
    grpc.grpc_status = Some(14);
    let http = gateway_to_productpage(Reporter::Source);
    let text = render_exposition([(&grpc, &counters(1.0)), (&http, &counters(1.0))], |_| true);
    let requests = lines_of(&text, "istio_requests_total");
    assert!(requests[0].contains("request_protocol=\"grpc\""));
    assert!(requests[0].contains("grpc_response_status=\"14\""));
    assert!(!requests[1].contains("grpc_response_status"));
}

#[test]
fn tcp_series_count_bytes_and_have_no_response_labels() {
    let mut labels = gateway_to_productpage(Reporter::Destination);
    labels.protocol = Protocol::Tcp;
    labels.operation = None;
    let bytes = SeriesCounters {
        requests: 2.0,
        tcp_sent_bytes: 4800.0,
        tcp_received_bytes: 700.5,
        ..SeriesCounters::default()
    };
    let text = render_exposition([(&labels, &bytes)], |_| true);
    assert!(lines_of(&text, "istio_requests_total").is_empty());
    let sent = lines_of(&text, "istio_tcp_sent_bytes_total");
    let received = lines_of(&text, "istio_tcp_received_bytes_total");
    assert!(sent[0].ends_with("connection_security_policy=\"mutual_tls\"} 4800"));
    assert!(received[0].ends_with("} 700.5"));
    assert!(!sent[0].contains("response_code"));
}

#[test]
fn the_demo_mesh_writes_principals_on_its_mutual_tls_hops_only() {
    let mesh = DemoMesh::new(DemoOptions::default());
    let text = render_metrics(&mesh);
    let requests = lines_of(&text, "istio_requests_total");
    let hop = |from: &str, to: &str, reporter: &str| {
        requests
            .iter()
            .find(|line| {
                line.contains(&format!("source_workload=\"{from}\""))
                    && line.contains(&format!("destination_workload=\"{to}\""))
                    && line.contains(&format!("reporter=\"{reporter}\""))
            })
            .copied()
            .unwrap_or_default()
    };
    let secure = hop("productpage-v1", "reviews-v2", "source");
    assert!(
        secure.contains("source_principal=\"spiffe://cluster.local/ns/bookinfo/sa/productpage\""),
        "{secure}"
    );
    // The DestinationRule with `tls.mode: DISABLE` in the shop.
    for reporter in ["source", "destination"] {
        let plain = hop("checkout-v1", "email-v1", reporter);
        assert!(plain.contains("source_principal=\"unknown\""), "{plain}");
        assert!(
            plain.contains("destination_principal=\"unknown\""),
            "{plain}"
        );
    }
}

#[test]
fn only_get_or_head_of_metrics_is_answered_with_the_latest_exposition() {
    let latest = Some(Bytes::from_static(b"# TYPE x counter\n"));
    let ok = respond(&Method::GET, "/metrics", &latest);
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        ok.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        respond(&Method::HEAD, "/metrics", &latest).status(),
        StatusCode::OK
    );
    assert_eq!(
        respond(&Method::GET, "/", &latest).status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        respond(&Method::POST, "/metrics", &latest).status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        respond(&Method::GET, "/metrics", &None).status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}
