use super::*;
use crate::mesh::graph::AppBox;
use crate::mesh::inventory::{NamespaceRef, ServiceInfo, WorkloadInfo, WorkloadKind};

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
                "va/Kubernetes/bookinfo/productpage-v1",
                "va/Kubernetes/bookinfo/reviews-v2",
                "va/Kubernetes/bookinfo/reviews-v3",
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
            // The caller stays as the traffic source it is; reviews' workloads call nobody.
            GraphType::Service,
            vec![
                "svc/Kubernetes/bookinfo/reviews",
                "wl/Kubernetes/bookinfo/productpage-v1",
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
            ports: Vec::new(),
            selector: Default::default(),
        }],
        workloads: vec![WorkloadInfo {
            cluster: "Kubernetes".into(),
            namespace: "istio-system".into(),
            name: "istio-ingressgateway".into(),
            kind: WorkloadKind::Deployment,
            app: None,
            version: None,
            version_label: None,
            sidecar_injected: true,
            gateway: Some(GatewayRole::Ingress),
            pods_ready: 1,
            pods_desired: 1,
            labels: Default::default(),
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
        kind_of("va/Kubernetes/istio-system/istio-ingressgateway"),
        NodeKind::IngressGateway
    );
    assert_eq!(kind_of("ext/api.payments.example.com"), NodeKind::External);
    assert!(close(
        edge_between(
            &graph,
            "va/Kubernetes/shop/payment-v1",
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
        inaccessible_namespaces: vec![NamespaceRef::new("Kubernetes", "bookinfo")],
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

fn between(source: PeerLabels, destination: PeerLabels, service: &str) -> SampleLabels {
    SampleLabels::between(source, destination, service)
}

fn graph_of(graph_type: GraphType, samples: &[TrafficSample]) -> MeshGraph {
    build_graph(
        samples,
        &Inventory::default(),
        &GraphOptions::kiali(graph_type),
    )
}

fn keys(graph: &MeshGraph) -> Vec<String> {
    let mut keys: Vec<String> = graph.nodes().map(|(_, n)| n.key.0.clone()).collect();
    keys.sort();
    keys
}

fn node_of<'g>(graph: &'g MeshGraph, key: &str) -> &'g MeshNode {
    let index = graph
        .node_index(&NodeKey(key.into()))
        .unwrap_or_else(|| panic!("no node {key} in {:?}", keys(graph)));
    &graph.graph[index]
}

#[test]
fn a_versioned_app_node_is_one_workload_so_two_workloads_labelled_alike_stay_two() {
    let canary = PeerLabels {
        workload: "reviews-v2-canary".into(),
        ..peer("bookinfo", "reviews", "v2")
    };
    let productpage = || peer("bookinfo", "productpage", "v1");
    let samples = [
        requests(productpage_to_reviews_v2(), 3.0),
        requests(
            between(productpage(), canary, "reviews.bookinfo.svc.cluster.local"),
            1.0,
        ),
    ];
    let graph = graph_of(GraphType::VersionedApp, &samples);
    for (key, workload, rps) in [
        ("va/Kubernetes/bookinfo/reviews-v2", "reviews-v2", 3.0),
        (
            "va/Kubernetes/bookinfo/reviews-v2-canary",
            "reviews-v2-canary",
            1.0,
        ),
    ] {
        let node = node_of(&graph, key);
        assert_eq!(node.kind, NodeKind::VersionedApp);
        assert_eq!(
            (node.app.as_deref(), node.version.as_deref()),
            (Some("reviews"), Some("v2"))
        );
        assert_eq!(node.workload.as_deref(), Some(workload));
        assert!(
            close(node.inbound.total, rps),
            "{key}: {}",
            node.inbound.total
        );
    }
}

#[test]
fn a_gateway_is_one_versioned_app_node_whichever_proxy_labelled_its_version() {
    // The gateway's own series have no version; the server writes `unknown` for it.
    let client_side = between(
        PeerLabels {
            version: String::new(),
            ..gateway()
        },
        peer("bookinfo", "productpage", "v1"),
        "productpage.bookinfo.svc.cluster.local",
    );
    let server_side = from_destination(
        between(
            gateway(),
            peer("bookinfo", "productpage", "v1"),
            "productpage.bookinfo.svc.cluster.local",
        ),
        SecurityPolicy::MutualTls,
    );
    let samples = [requests(client_side, 10.0), requests(server_side, 10.0)];
    let graph = graph_of(GraphType::VersionedApp, &samples);
    assert_eq!(
        keys(&graph),
        [
            "va/Kubernetes/bookinfo/productpage-v1",
            "va/Kubernetes/istio-system/istio-ingressgateway"
        ]
    );
    let gateway = node_of(&graph, "va/Kubernetes/istio-system/istio-ingressgateway");
    assert_eq!(gateway.kind, NodeKind::IngressGateway);
    assert!(close(gateway.outbound.total, 10.0));
}

#[test]
fn an_app_with_several_nodes_is_boxed_in_the_app_graphs_only() {
    let samples = [
        requests(productpage_to_reviews_v2(), 1.0),
        requests(
            between(
                peer("bookinfo", "productpage", "v1"),
                peer("bookinfo", "reviews", "v3"),
                "reviews.bookinfo.svc.cluster.local",
            ),
            1.0,
        ),
    ];
    let graph = graph_of(GraphType::VersionedApp, &samples);
    assert_eq!(
        graph.boxes,
        [AppBox {
            key: NodeKey("box/Kubernetes/bookinfo/reviews".into()),
            cluster: "Kubernetes".into(),
            namespace: "bookinfo".into(),
            app: "reviews".into(),
        }]
    );
    let parent = |key: &str| node_of(&graph, key).parent.clone().map(|p| p.0);
    for version in ["reviews-v2", "reviews-v3"] {
        assert_eq!(
            parent(&format!("va/Kubernetes/bookinfo/{version}")).as_deref(),
            Some("box/Kubernetes/bookinfo/reviews")
        );
    }
    assert_eq!(parent("va/Kubernetes/bookinfo/productpage-v1"), None);
    for graph_type in [GraphType::App, GraphType::Workload, GraphType::Service] {
        let graph = graph_of(graph_type, &samples);
        assert!(graph.boxes.is_empty(), "{graph_type:?}");
        assert!(graph.nodes().all(|(_, n)| n.parent.is_none()));
    }
}

/// gateway -> productpage -> reviews (v2, v3) -> ratings, each hop through its service.
fn bookinfo_chain() -> Vec<TrafficSample> {
    let host = |service: &str| format!("{service}.bookinfo.svc.cluster.local");
    vec![
        requests(
            between(
                gateway(),
                peer("bookinfo", "productpage", "v1"),
                &host("productpage"),
            ),
            10.0,
        ),
        requests(productpage_to_reviews_v2(), 4.0),
        requests(
            between(
                peer("bookinfo", "productpage", "v1"),
                peer("bookinfo", "reviews", "v3"),
                &host("reviews"),
            ),
            6.0,
        ),
        requests(
            between(
                peer("bookinfo", "reviews", "v2"),
                peer("bookinfo", "ratings", "v1"),
                &host("ratings"),
            ),
            4.0,
        ),
        requests(
            with(
                between(
                    peer("bookinfo", "reviews", "v3"),
                    peer("bookinfo", "ratings", "v1"),
                    &host("ratings"),
                ),
                |l| l.response_code = 503,
            ),
            2.0,
        ),
    ]
}

#[test]
fn in_the_service_graph_services_call_services_with_the_calls_of_the_workloads_behind_them() {
    let graph = graph_of(GraphType::Service, &bookinfo_chain());
    assert_eq!(
        keys(&graph),
        [
            "svc/Kubernetes/bookinfo/productpage",
            "svc/Kubernetes/bookinfo/ratings",
            "svc/Kubernetes/bookinfo/reviews",
            "wl/Kubernetes/istio-system/istio-ingressgateway",
        ]
    );
    assert_eq!(graph.edge_count(), 3);
    let gateway = "wl/Kubernetes/istio-system/istio-ingressgateway";
    assert!(close(
        edge_between(&graph, gateway, "svc/Kubernetes/bookinfo/productpage").rps(),
        10.0
    ));
    assert!(close(
        edge_between(
            &graph,
            "svc/Kubernetes/bookinfo/productpage",
            "svc/Kubernetes/bookinfo/reviews"
        )
        .rps(),
        10.0
    ));
    let reviews_to_ratings = edge_between(
        &graph,
        "svc/Kubernetes/bookinfo/reviews",
        "svc/Kubernetes/bookinfo/ratings",
    );
    assert!(
        close(reviews_to_ratings.rps(), 6.0),
        "v2's 4/s and v3's 2/s"
    );
    assert!(close(reviews_to_ratings.requests.server_5xx, 2.0));
    let reviews = node_of(&graph, "svc/Kubernetes/bookinfo/reviews");
    assert!(close(reviews.inbound.total, 10.0));
    assert!(close(reviews.outbound.total, 6.0));
    assert!(node_of(&graph, gateway).root);
    assert!(!reviews.root);
}

#[test]
fn the_service_graph_is_the_same_with_or_without_the_service_nodes_option() {
    let samples = bookinfo_chain();
    let with_option = build_graph(
        &samples,
        &Inventory::default(),
        &GraphOptions {
            inject_service_nodes: true,
            ..GraphOptions::kiali(GraphType::Service)
        },
    );
    let without = graph_of(GraphType::Service, &samples);
    assert_eq!(keys(&with_option), keys(&without));
    assert_eq!(with_option.edge_count(), without.edge_count());
}

#[test]
fn a_traffic_source_keeps_only_its_calls_to_services_in_the_service_graph() {
    let unknown_to = |destination: PeerLabels, service: &str| {
        from_destination(
            between(PeerLabels::unknown(), destination, service),
            SecurityPolicy::None,
        )
    };
    // A pod called by address: the server knows no service for it.
    let direct = with(unknown_to(peer("bookinfo", "kiali", "v1"), ""), |l| {
        l.destination_service_name = String::new().into();
        l.destination_service_namespace = String::new().into();
    });
    let samples = [
        requests(direct.clone(), 5.0),
        requests(
            unknown_to(
                peer("bookinfo", "productpage", "v1"),
                "productpage.bookinfo.svc.cluster.local",
            ),
            2.0,
        ),
        // kiali-v1 is no source (it is called) and fronted by no service: its calls vanish
        // as edges but still count as what productpage received.
        requests(
            between(
                peer("bookinfo", "kiali", "v1"),
                peer("bookinfo", "productpage", "v1"),
                "productpage.bookinfo.svc.cluster.local",
            ),
            1.0,
        ),
    ];
    let graph = graph_of(GraphType::Service, &samples);
    assert_eq!(
        keys(&graph),
        ["svc/Kubernetes/bookinfo/productpage", "unknown"]
    );
    let unknown = node_of(&graph, "unknown");
    assert!(unknown.root);
    assert!(
        close(unknown.outbound.total, 2.0),
        "only what reached a service"
    );
    let productpage = node_of(&graph, "svc/Kubernetes/bookinfo/productpage");
    assert!(close(productpage.inbound.total, 3.0));
    assert_eq!(graph.edge_count(), 1);

    // A source whose every call went straight to a workload has no place in the graph.
    let graph = graph_of(GraphType::Service, &[requests(direct, 5.0)]);
    assert_eq!(graph.node_count(), 0, "{:?}", keys(&graph));
}

fn inventory_workload(namespace: &str, name: &str, app: &str, version: &str) -> WorkloadInfo {
    WorkloadInfo {
        cluster: "Kubernetes".into(),
        namespace: namespace.into(),
        name: name.into(),
        kind: WorkloadKind::Deployment,
        app: Some(app.into()),
        version: Some(version.into()),
        version_label: Some("version".into()),
        sidecar_injected: true,
        gateway: None,
        pods_ready: 1,
        pods_desired: 1,
        labels: Default::default(),
    }
}

fn inventory_service(namespace: &str, name: &str, external: bool) -> ServiceInfo {
    ServiceInfo {
        cluster: "Kubernetes".into(),
        namespace: namespace.into(),
        name: name.into(),
        host: if external {
            name.into()
        } else {
            format!("{name}.{namespace}.svc.cluster.local")
        },
        external,
        ports: Vec::new(),
        selector: Default::default(),
    }
}

#[test]
fn idle_nodes_are_what_the_inventory_lists_in_the_namespaces_asked_for_without_traffic() {
    let inventory = Inventory {
        workloads: vec![
            inventory_workload("bookinfo", "productpage-v1", "productpage", "v1"),
            inventory_workload("bookinfo", "reviews-v2", "reviews", "v2"),
            inventory_workload("bookinfo", "reviews-v3", "reviews", "v3"),
            inventory_workload("bookinfo", "mysqldb-v1", "mysqldb", "v1"),
            inventory_workload("shop", "cart-v1", "cart", "v1"),
        ],
        services: vec![
            inventory_service("bookinfo", "reviews", false),
            inventory_service("bookinfo", "mysqldb", false),
            inventory_service("bookinfo", "api.example.com", true),
        ],
        ..Inventory::default()
    };
    let samples = [requests(productpage_to_reviews_v2(), 1.0)];
    let graph = |graph_type, idle_nodes, inject_service_nodes| {
        let options = GraphOptions {
            idle_nodes,
            inject_service_nodes,
            namespaces: vec!["bookinfo".into()],
            ..GraphOptions::kiali(graph_type)
        };
        let graph = build_graph(&samples, &inventory, &options);
        let mut idle: Vec<String> = graph
            .nodes()
            .filter(|(_, n)| n.idle)
            .map(|(_, n)| n.key.0.clone())
            .collect();
        idle.sort();
        (graph, idle)
    };

    let (off, idle) = graph(GraphType::VersionedApp, false, false);
    assert!(idle.is_empty());
    assert_eq!(off.node_count(), 2, "{:?}", keys(&off));

    let (on, idle) = graph(GraphType::VersionedApp, true, false);
    assert_eq!(
        idle,
        [
            "va/Kubernetes/bookinfo/mysqldb-v1",
            "va/Kubernetes/bookinfo/reviews-v3"
        ],
        "cart-v1 is in a namespace not asked for; services need service nodes"
    );
    let mysqldb = node_of(&on, "va/Kubernetes/bookinfo/mysqldb-v1");
    assert_eq!(
        (mysqldb.health, mysqldb.root, mysqldb.outside),
        (Health::NoTraffic, false, false)
    );
    assert!(!node_of(&on, "va/Kubernetes/bookinfo/reviews-v2").idle);
    assert_eq!(
        node_of(&on, "va/Kubernetes/bookinfo/reviews-v3")
            .parent
            .as_ref()
            .map(|p| p.0.as_str()),
        Some("box/Kubernetes/bookinfo/reviews"),
        "an idle version is boxed with the busy ones"
    );

    let (_, idle) = graph(GraphType::VersionedApp, true, true);
    assert_eq!(
        idle,
        [
            "svc/Kubernetes/bookinfo/mysqldb",
            "va/Kubernetes/bookinfo/mysqldb-v1",
            "va/Kubernetes/bookinfo/reviews-v3"
        ],
        "a ServiceEntry host is no idle service"
    );

    let (_, idle) = graph(GraphType::App, true, false);
    assert_eq!(
        idle,
        ["app/Kubernetes/bookinfo/mysqldb"],
        "reviews-v3 adds nothing to the reviews app, which had traffic"
    );

    let (service_graph, idle) = graph(GraphType::Service, true, false);
    assert_eq!(idle, ["svc/Kubernetes/bookinfo/mysqldb"], "services only");
    assert!(!node_of(&service_graph, "svc/Kubernetes/bookinfo/reviews").idle);
}
