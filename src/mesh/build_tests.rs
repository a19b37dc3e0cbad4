use super::*;
use crate::mesh::inventory::{ServiceInfo, WorkloadInfo, WorkloadKind};

const BUCKETS_MS: [f64; 6] = [5.0, 10.0, 25.0, 50.0, 100.0, f64::INFINITY];

fn peer(ns: &str, app: &str, version: &str) -> PeerLabels {
    PeerLabels::workload(ns, app, version)
}

fn gateway() -> PeerLabels {
    PeerLabels {
        cluster: "Kubernetes".into(),
        namespace: "istio-system".into(),
        workload: "istio-ingressgateway".into(),
        app: "istio-ingressgateway".into(),
        version: UNKNOWN.into(),
    }
}

fn requests(labels: SampleLabels, rate: f64) -> TrafficSample {
    TrafficSample {
        kind: SampleKind::Requests,
        labels,
        value: rate,
    }
}

fn with(mut labels: SampleLabels, edit: impl FnOnce(&mut SampleLabels)) -> SampleLabels {
    edit(&mut labels);
    labels
}

fn from_destination(labels: SampleLabels, security: SecurityPolicy) -> SampleLabels {
    with(labels, |l| {
        l.reporter = Reporter::Destination;
        l.security = security;
    })
}

fn workload_graph(samples: &[TrafficSample]) -> MeshGraph {
    build_graph(
        samples,
        &Inventory::default(),
        &GraphOptions {
            graph_type: GraphType::Workload,
            inject_service_nodes: true,
            ..Default::default()
        },
    )
}

fn edge_between<'g>(graph: &'g MeshGraph, from: &str, to: &str) -> &'g ServiceEdge {
    let from = graph
        .node_index(&NodeKey(from.into()))
        .unwrap_or_else(|| panic!("no node {from}"));
    let to = graph
        .node_index(&NodeKey(to.into()))
        .unwrap_or_else(|| panic!("no node {to}"));
    let edge = graph
        .graph
        .find_edge(from, to)
        .unwrap_or_else(|| panic!("no edge {from:?}->{to:?}"));
    &graph.graph[edge]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

const PRODUCTPAGE: &str = "wl/Kubernetes/bookinfo/productpage-v1";
const REVIEWS_SVC: &str = "svc/Kubernetes/bookinfo/reviews";
const REVIEWS_V2: &str = "wl/Kubernetes/bookinfo/reviews-v2";

fn productpage_to_reviews_v2() -> SampleLabels {
    SampleLabels::between(
        peer("bookinfo", "productpage", "v1"),
        peer("bookinfo", "reviews", "v2"),
        "reviews.bookinfo.svc.cluster.local",
    )
}

#[test]
fn rates_reported_by_both_proxies_are_counted_once() {
    let ok = productpage_to_reviews_v2();
    let samples = [
        requests(ok.clone(), 3.2),
        requests(from_destination(ok, SecurityPolicy::MutualTls), 3.2),
    ];
    let graph = workload_graph(&samples);
    let edge = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2);
    assert!(close(edge.rps(), 3.2), "rps {}", edge.rps());
    assert!(close(
        edge_between(&graph, PRODUCTPAGE, REVIEWS_SVC).rps(),
        3.2
    ));
}

#[test]
fn requests_rejected_by_the_client_proxy_count_as_errors_of_the_edge() {
    let ok = productpage_to_reviews_v2();
    let overflow = with(ok.clone(), |l| {
        l.response_code = 503;
        l.response_flags = "UO".into();
    });
    let samples = [
        requests(ok.clone(), 3.2),
        requests(from_destination(ok, SecurityPolicy::MutualTls), 3.2),
        requests(overflow, 0.4),
    ];
    let graph = workload_graph(&samples);
    let edge = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2);
    assert!(close(edge.rps(), 3.6));
    assert!(close(edge.requests.server_5xx, 0.4));
    assert!((edge.requests.server_error_pct() - 100.0 * 0.4 / 3.6).abs() < 1e-9);
    assert_eq!(
        edge.health,
        Health::Failure,
        "11.1 % 5xx is at or above 10 %"
    );
}

#[test]
fn error_rates_are_split_into_client_server_and_no_response() {
    let base = productpage_to_reviews_v2();
    let samples = [
        requests(base.clone(), 90.0),
        requests(with(base.clone(), |l| l.response_code = 404), 5.0),
        requests(with(base.clone(), |l| l.response_code = 500), 3.0),
        requests(
            with(base, |l| {
                l.response_code = 0;
                l.response_flags = "DC".into();
            }),
            2.0,
        ),
    ];
    let graph = workload_graph(&samples);
    let split = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2).requests;
    assert!(close(split.total, 100.0));
    assert!(close(split.client_4xx, 5.0));
    assert!(close(split.server_5xx, 3.0));
    assert!(close(split.no_response, 2.0));
    assert!(close(split.server_error_pct(), 5.0));
    assert!(close(split.error_pct(), 10.0));
}

#[test]
fn latency_percentiles_come_from_the_histogram_buckets() {
    let base = productpage_to_reviews_v2();
    // 10 req/s: 5 under 10 ms, 4 more under 50 ms, 1 more under 100 ms.
    let cumulative = [0.0, 5.0, 5.0, 9.0, 10.0, 10.0];
    let mut samples = vec![requests(base.clone(), 10.0)];
    for (le, rate) in BUCKETS_MS.iter().zip(cumulative) {
        samples.push(TrafficSample {
            kind: SampleKind::DurationBucket { le_ms: *le },
            labels: base.clone(),
            value: rate,
        });
    }
    let graph = workload_graph(&samples);
    let latency = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2)
        .latency
        .unwrap();
    assert!(close(latency.p50_ms, 10.0), "p50 {}", latency.p50_ms);
    assert!(close(latency.p95_ms, 75.0), "p95 {}", latency.p95_ms);
    assert!(close(latency.p99_ms, 95.0), "p99 {}", latency.p99_ms);
}

#[test]
fn mtls_share_is_read_from_the_destination_reports() {
    let base = productpage_to_reviews_v2();
    let samples = [
        requests(base.clone(), 4.0),
        requests(
            from_destination(base.clone(), SecurityPolicy::MutualTls),
            3.0,
        ),
        requests(
            from_destination(with(base, |l| l.response_code = 201), SecurityPolicy::None),
            1.0,
        ),
    ];
    let graph = workload_graph(&samples);
    let edge = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2);
    assert!(close(edge.mtls_share.unwrap(), 0.75));
    assert!(
        close(edge.rps(), 4.0),
        "200s: the server's 3.0 in place of the client's 4.0; 201s only the server saw: 1.0"
    );
}

#[test]
fn callers_without_a_sidecar_become_the_unknown_node() {
    let labels = from_destination(
        SampleLabels::between(
            PeerLabels::unknown(),
            peer("bookinfo", "productpage", "v1"),
            "productpage.bookinfo.svc.cluster.local",
        ),
        SecurityPolicy::None,
    );
    let graph = workload_graph(&[requests(labels, 0.2)]);
    let unknown = graph.node_index(&NodeKey("unknown".into())).unwrap();
    assert_eq!(graph.graph[unknown].kind, NodeKind::UnknownSource);
    let edge = edge_between(&graph, "unknown", "svc/Kubernetes/bookinfo/productpage");
    assert!(close(edge.rps(), 0.2));
    assert_eq!(edge.mtls_share, Some(0.0));
}

#[test]
fn graph_types_choose_the_node_identity() {
    let samples = [
        requests(productpage_to_reviews_v2(), 1.0),
        requests(
            SampleLabels::between(
                peer("bookinfo", "productpage", "v1"),
                peer("bookinfo", "reviews", "v3"),
                "reviews.bookinfo.svc.cluster.local",
            ),
            1.0,
        ),
    ];
    let cases = [
        (
            GraphType::Workload,
            vec![
                "svc/Kubernetes/bookinfo/reviews",
                "wl/Kubernetes/bookinfo/productpage-v1",
                "wl/Kubernetes/bookinfo/reviews-v2",
                "wl/Kubernetes/bookinfo/reviews-v3",
            ],
        ),
        (
            GraphType::VersionedApp,
            vec![
                "svc/Kubernetes/bookinfo/reviews",
                "va/Kubernetes/bookinfo/productpage/v1",
                "va/Kubernetes/bookinfo/reviews/v2",
                "va/Kubernetes/bookinfo/reviews/v3",
            ],
        ),
        (
            GraphType::App,
            vec![
                "app/Kubernetes/bookinfo/productpage",
                "app/Kubernetes/bookinfo/reviews",
                "svc/Kubernetes/bookinfo/reviews",
            ],
        ),
        (
            GraphType::Service,
            vec![
                "app/Kubernetes/bookinfo/productpage",
                "svc/Kubernetes/bookinfo/reviews",
            ],
        ),
    ];
    for (graph_type, expected) in cases {
        let graph = build_graph(
            &samples,
            &Inventory::default(),
            &GraphOptions {
                graph_type,
                inject_service_nodes: true,
                ..Default::default()
            },
        );
        let mut keys: Vec<String> = graph.nodes().map(|(_, n)| n.key.0.clone()).collect();
        keys.sort();
        assert_eq!(keys, expected, "{graph_type:?}");
    }
}

#[test]
fn gateways_and_external_hosts_get_their_own_kinds() {
    let inventory = Inventory {
        services: vec![ServiceInfo {
            cluster: "Kubernetes".into(),
            namespace: "shop".into(),
            name: "api.payments.example.com".into(),
            host: "api.payments.example.com".into(),
            external: true,
        }],
        workloads: vec![WorkloadInfo {
            cluster: "Kubernetes".into(),
            namespace: "istio-system".into(),
            name: "istio-ingressgateway".into(),
            kind: WorkloadKind::Deployment,
            app: None,
            version: None,
            sidecar_injected: true,
            gateway: Some(GatewayRole::Ingress),
            pods_ready: 1,
            pods_desired: 1,
        }],
        ..Default::default()
    };
    let samples = [
        requests(
            SampleLabels::between(
                gateway(),
                peer("bookinfo", "productpage", "v1"),
                "productpage.bookinfo.svc.cluster.local",
            ),
            10.0,
        ),
        requests(
            SampleLabels::between(
                peer("shop", "payment", "v1"),
                PeerLabels::unknown(),
                "api.payments.example.com",
            ),
            2.0,
        ),
    ];
    let options = GraphOptions {
        inject_service_nodes: true,
        ..Default::default()
    };
    let graph = build_graph(&samples, &inventory, &options);
    let kind_of = |key: &str| graph.graph[graph.node_index(&NodeKey(key.into())).unwrap()].kind;
    assert_eq!(
        kind_of("wl/Kubernetes/istio-system/istio-ingressgateway"),
        NodeKind::IngressGateway
    );
    assert_eq!(kind_of("ext/api.payments.example.com"), NodeKind::External);
    assert!(close(
        edge_between(
            &graph,
            "va/Kubernetes/shop/payment/v1",
            "ext/api.payments.example.com"
        )
        .rps(),
        2.0
    ));
}

#[test]
fn tcp_edges_carry_bytes_per_second_in_both_directions() {
    let labels = with(
        SampleLabels::between(
            peer("shop", "cart", "v1"),
            peer("shop", "redis-cart", "v1"),
            "redis-cart.shop.svc.cluster.local",
        ),
        |l| {
            l.protocol = Protocol::Tcp;
            l.response_code = 0;
        },
    );
    let samples = [
        TrafficSample {
            kind: SampleKind::TcpSentBytes,
            labels: labels.clone(),
            value: 1000.0,
        },
        TrafficSample {
            kind: SampleKind::TcpReceivedBytes,
            labels: labels.clone(),
            value: 200.0,
        },
        TrafficSample {
            kind: SampleKind::TcpSentBytes,
            labels: from_destination(labels, SecurityPolicy::MutualTls),
            value: 1000.0,
        },
    ];
    let graph = workload_graph(&samples);
    let edge = edge_between(
        &graph,
        "svc/Kubernetes/shop/redis-cart",
        "wl/Kubernetes/shop/redis-cart-v1",
    );
    assert_eq!(edge.protocol, Protocol::Tcp);
    assert!(close(edge.tcp_bytes_per_s, 1200.0));
    assert_eq!(edge.health, Health::Healthy);
    assert_eq!(edge.mtls_share, Some(1.0));
}

#[test]
fn node_health_follows_inbound_errors() {
    let base = productpage_to_reviews_v2();
    let samples = [
        requests(base.clone(), 95.0),
        requests(with(base, |l| l.response_code = 503), 5.0),
    ];
    let graph = workload_graph(&samples);
    let reviews = graph.node_index(&NodeKey(REVIEWS_V2.into())).unwrap();
    assert_eq!(graph.graph[reviews].health, Health::Degraded);
    let productpage = graph.node_index(&NodeKey(PRODUCTPAGE.into())).unwrap();
    assert_eq!(
        graph.graph[productpage].health,
        Health::Degraded,
        "no inbound: judged by outbound"
    );
}

#[test]
fn escape_sequences_in_labels_never_reach_node_names() {
    let labels = SampleLabels::between(
        peer("bookinfo", "productpage", "v1"),
        peer("bookinfo", "evil\u{1b}]0;owned\u{7}", "v1"),
        "evil.bookinfo.svc.cluster.local",
    );
    let graph = workload_graph(&[requests(labels, 1.0)]);
    assert!(graph
        .nodes()
        .all(|(_, n)| !n.name.contains('\u{1b}') && !n.name.contains('\u{7}')));
}

#[test]
fn malformed_rates_are_ignored() {
    let graph = workload_graph(&[
        requests(productpage_to_reviews_v2(), f64::NAN),
        requests(productpage_to_reviews_v2(), -1.0),
    ]);
    assert_eq!(graph.edge_count(), 0);
}

#[test]
fn without_service_nodes_edges_go_straight_to_the_workloads() {
    let samples = [requests(productpage_to_reviews_v2(), 2.0)];
    let graph = build_graph(
        &samples,
        &Inventory::default(),
        &GraphOptions {
            graph_type: GraphType::Workload,
            ..Default::default()
        },
    );
    assert_eq!(graph.node_count(), 2);
    assert!(close(
        edge_between(&graph, PRODUCTPAGE, REVIEWS_V2).rps(),
        2.0
    ));
}

#[test]
fn a_gateway_edge_counts_once_although_the_two_proxies_label_it_differently() {
    // The gateway's own series have no version; the server writes `unknown` for it.
    let client_side = SampleLabels::between(
        PeerLabels {
            version: String::new(),
            ..gateway()
        },
        peer("bookinfo", "productpage", "v1"),
        "productpage.bookinfo.svc.cluster.local",
    );
    let server_side = from_destination(
        SampleLabels::between(
            gateway(),
            peer("bookinfo", "productpage", "v1"),
            "productpage.bookinfo.svc.cluster.local",
        ),
        SecurityPolicy::MutualTls,
    );
    let samples = [requests(client_side, 10.0), requests(server_side, 10.0)];
    let graph = workload_graph(&samples);
    let gateway_key = "wl/Kubernetes/istio-system/istio-ingressgateway";
    let edge = edge_between(&graph, gateway_key, "svc/Kubernetes/bookinfo/productpage");
    assert!(close(edge.rps(), 10.0), "rps {}", edge.rps());
    assert_eq!(edge.mtls_share, Some(1.0));
}

#[test]
fn requests_only_the_server_saw_count_when_the_client_reported_nothing() {
    let base = productpage_to_reviews_v2();
    let samples = [requests(from_destination(base, SecurityPolicy::None), 2.5)];
    let graph = workload_graph(&samples);
    let edge = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2);
    assert!(close(edge.rps(), 2.5));
    assert_eq!(edge.mtls_share, Some(0.0));
}

#[test]
fn a_series_only_the_server_saw_counts_although_the_client_reported_others() {
    // Kiali adds up the distinct series of both proxies; identical ones count once.
    let ok = productpage_to_reviews_v2();
    let reset = with(ok.clone(), |l| {
        l.response_code = 0;
        l.response_flags = "DC".into();
    });
    let samples = [
        requests(ok.clone(), 3.0),
        requests(from_destination(ok, SecurityPolicy::MutualTls), 3.0),
        requests(from_destination(reset, SecurityPolicy::MutualTls), 0.5),
    ];
    let graph = workload_graph(&samples);
    let edge = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2);
    assert!(close(edge.rps(), 3.5), "rps {}", edge.rps());
    assert!(close(edge.requests.no_response, 0.5));
}

#[test]
fn series_reported_by_both_proxies_count_with_the_servers_value() {
    let ok = productpage_to_reviews_v2();
    let samples = [
        requests(ok.clone(), 3.1),
        requests(from_destination(ok, SecurityPolicy::MutualTls), 3.0),
    ];
    let graph = workload_graph(&samples);
    assert!(close(
        edge_between(&graph, PRODUCTPAGE, REVIEWS_SVC).rps(),
        3.0
    ));
}

#[test]
fn series_of_different_workloads_add_up_on_one_app_edge() {
    let to_ratings = |version: &str| {
        SampleLabels::between(
            peer("bookinfo", "reviews", version),
            peer("bookinfo", "ratings", "v1"),
            "ratings.bookinfo.svc.cluster.local",
        )
    };
    let samples = [
        requests(to_ratings("v2"), 2.0),
        requests(
            from_destination(to_ratings("v2"), SecurityPolicy::MutualTls),
            2.0,
        ),
        requests(to_ratings("v3"), 1.0),
        requests(
            from_destination(to_ratings("v3"), SecurityPolicy::MutualTls),
            1.0,
        ),
    ];
    let graph = build_graph(
        &samples,
        &Inventory::default(),
        &GraphOptions::kiali(GraphType::App),
    );
    let edge = edge_between(
        &graph,
        "app/Kubernetes/bookinfo/reviews",
        "app/Kubernetes/bookinfo/ratings",
    );
    assert!(close(edge.rps(), 3.0), "rps {}", edge.rps());
}

#[test]
fn the_tcp_rate_chooses_the_direction_as_kiali_does() {
    let labels = with(
        SampleLabels::between(
            peer("shop", "cart", "v1"),
            peer("shop", "redis-cart", "v1"),
            "redis-cart.shop.svc.cluster.local",
        ),
        |l| {
            l.protocol = Protocol::Tcp;
            l.response_code = 0;
        },
    );
    let sample = |kind, value| TrafficSample {
        kind,
        labels: labels.clone(),
        value,
    };
    let samples = [
        sample(SampleKind::TcpSentBytes, 1000.0),
        sample(SampleKind::TcpReceivedBytes, 200.0),
    ];
    let cases = [
        ("client sent: received-bytes counter", TcpRate::Sent, 200.0),
        (
            "client received: sent-bytes counter",
            TcpRate::Received,
            1000.0,
        ),
        ("both", TcpRate::Total, 1200.0),
    ];
    for (name, tcp_rate, expected) in cases {
        let options = GraphOptions {
            tcp_rate,
            ..GraphOptions::kiali(GraphType::Workload)
        };
        let graph = build_graph(&samples, &Inventory::default(), &options);
        let edge = edge_between(
            &graph,
            "wl/Kubernetes/shop/cart-v1",
            "wl/Kubernetes/shop/redis-cart-v1",
        );
        assert!(close(edge.tcp_bytes_per_s, expected), "{name}");
    }
}

#[test]
fn nodes_are_marked_outside_inaccessible_and_root_as_kiali_marks_them() {
    let samples = [
        requests(
            from_destination(
                SampleLabels::between(
                    PeerLabels::unknown(),
                    peer("bookinfo", "productpage", "v1"),
                    "productpage.bookinfo.svc.cluster.local",
                ),
                SecurityPolicy::None,
            ),
            1.0,
        ),
        requests(
            SampleLabels::between(
                peer("bookinfo", "productpage", "v1"),
                peer("tutorial", "greeter", "v1"),
                "greeter.tutorial.svc.cluster.local",
            ),
            1.0,
        ),
        requests(
            SampleLabels::between(
                peer("bookinfo", "productpage", "v1"),
                peer("bankapp", "pricing", "v1"),
                "pricing.bankapp.svc.cluster.local",
            ),
            1.0,
        ),
    ];
    let inventory = Inventory {
        namespaces: ["bookinfo", "tutorial"]
            .map(|name| crate::mesh::inventory::NamespaceInfo {
                cluster: "Kubernetes".into(),
                name: name.into(),
                injection_enabled: true,
            })
            .to_vec(),
        ..Default::default()
    };
    let options = GraphOptions {
        namespaces: vec!["bookinfo".into()],
        ..GraphOptions::kiali(GraphType::Workload)
    };
    let graph = build_graph(&samples, &inventory, &options);
    let marks = |key: &str| {
        let node = &graph.graph[graph.node_index(&NodeKey(key.into())).unwrap()];
        (node.outside, node.inaccessible, node.root)
    };
    assert_eq!(marks("unknown"), (false, true, true));
    assert_eq!(marks(PRODUCTPAGE), (false, false, false));
    assert_eq!(
        marks("wl/Kubernetes/tutorial/greeter-v1"),
        (true, false, false)
    );
    assert_eq!(
        marks("wl/Kubernetes/bankapp/pricing-v1"),
        (true, true, false)
    );
}

#[test]
fn a_gateway_is_one_app_node_in_the_app_graph() {
    let labels = SampleLabels::between(
        gateway(),
        peer("bookinfo", "productpage", "v1"),
        "productpage.bookinfo.svc.cluster.local",
    );
    let graph = build_graph(
        &[requests(labels, 10.0)],
        &Inventory::default(),
        &GraphOptions::kiali(GraphType::App),
    );
    let index = graph
        .node_index(&NodeKey(
            "app/Kubernetes/istio-system/istio-ingressgateway".into(),
        ))
        .unwrap();
    let node = &graph.graph[index];
    assert_eq!(node.kind, NodeKind::IngressGateway);
    assert_eq!(node.workload, None);
    assert_eq!(node.version, None);
}

#[test]
fn nodes_in_a_namespace_the_user_may_not_read_are_marked_inaccessible() {
    let inventory = Inventory {
        inaccessible_namespaces: vec!["bookinfo".into()],
        ..Inventory::default()
    };
    let samples = [requests(productpage_to_reviews_v2(), 1.0)];
    let graph = build_graph(&samples, &inventory, &GraphOptions::default());
    assert!(graph.node_count() > 0);
    assert!(
        graph.nodes().all(|(_, n)| n.inaccessible),
        "every node is in bookinfo"
    );
    let readable = build_graph(&samples, &Inventory::default(), &GraphOptions::default());
    assert!(readable.nodes().all(|(_, n)| !n.inaccessible));
}

#[test]
fn percentiles_computed_by_prometheus_give_the_latency_the_clients_first() {
    let base = productpage_to_reviews_v2();
    let quantile = |labels: SampleLabels, quantile: Quantile, ms: f64| TrafficSample {
        kind: SampleKind::LatencyQuantile { quantile },
        labels,
        value: ms,
    };
    let server = from_destination(base.clone(), SecurityPolicy::MutualTls);
    let mut samples = vec![requests(base.clone(), 5.0)];
    for (q, client_ms, server_ms) in [
        (Quantile::P50, 12.0, 10.0),
        (Quantile::P95, 80.0, 70.0),
        (Quantile::P99, 150.0, 120.0),
    ] {
        samples.push(quantile(base.clone(), q, client_ms));
        samples.push(quantile(server.clone(), q, server_ms));
    }
    let graph = workload_graph(&samples);
    let latency = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2)
        .latency
        .unwrap();
    assert_eq!(
        (latency.p50_ms, latency.p95_ms, latency.p99_ms),
        (12.0, 80.0, 150.0)
    );

    // Where an edge gathers several series (the service node's inbound edge gathers every
    // caller), the slowest percentile stands: merging them exactly is impossible.
    samples.push(quantile(
        with(base, |l| l.source = peer("bookinfo", "other", "v1").into()),
        Quantile::P95,
        300.0,
    ));
    let graph = workload_graph(&samples);
    let latency = edge_between(&graph, REVIEWS_SVC, REVIEWS_V2)
        .latency
        .unwrap();
    assert_eq!(latency.p95_ms, 300.0);
}
