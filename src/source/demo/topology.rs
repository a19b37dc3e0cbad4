//! The default demo: Istio's Bookinfo sample plus a small online shop, written as data.

use crate::mesh::inventory::GatewayRole;
use crate::mesh::Protocol;

use super::latency::LatencyProfile;
use super::model::{ErrorOutcome, MeshModel, RouteDraft, RouteLoad, ServiceKind, WorkloadSpec};

const GRPC_UNAVAILABLE: u32 = 14;

/// A Deployment with a sidecar, two ready pods and the usual `app`/`version` labels.
fn deployment(namespace: &str, app: &str, version: &str, median_ms: f64) -> WorkloadSpec {
    WorkloadSpec {
        namespace: namespace.into(),
        name: format!("{app}-{version}"),
        app: Some(app.into()),
        version: Some(version.into()),
        sidecar: true,
        gateway: None,
        pods_ready: 2,
        pods_desired: 2,
        listed: true,
        service_time: LatencyProfile::new(median_ms, 0.45),
    }
}

/// Something without a proxy: its traffic only shows up as an `unknown` peer.
fn unmeshed(namespace: &str, name: &str, listed: bool, median_ms: f64) -> WorkloadSpec {
    WorkloadSpec {
        namespace: namespace.into(),
        name: name.into(),
        app: listed.then(|| name.to_string()),
        version: None,
        sidecar: false,
        gateway: None,
        pods_ready: 1,
        pods_desired: 1,
        listed,
        service_time: LatencyProfile::new(median_ms, 0.5),
    }
}

pub fn ingress_gateway(model: &mut MeshModel) -> usize {
    model.namespace("istio-system", false);
    model.add_workload(WorkloadSpec {
        namespace: "istio-system".into(),
        name: "istio-ingressgateway".into(),
        app: Some("istio-ingressgateway".into()),
        // Gateways carry no version label; the stats filter then leaves `source_version`
        // empty on the gateway's own series.
        version: None,
        sidecar: true,
        gateway: Some(GatewayRole::Ingress),
        pods_ready: 1,
        pods_desired: 1,
        listed: true,
        service_time: LatencyProfile::new(1.0, 0.3),
    })
}

/// A service with one workload per version, each `median_ms` slow on its own.
/// Returns the service and its workloads, in the order of `versions`.
fn service<const N: usize>(
    model: &mut MeshModel,
    namespace: &str,
    app: &str,
    versions: [&str; N],
    median_ms: f64,
) -> (usize, [usize; N]) {
    let service = model.add_service(namespace, app, ServiceKind::Kubernetes);
    let workloads = versions.map(|version| {
        let workload = model.add_workload(deployment(namespace, app, version, median_ms));
        model.serve(service, workload);
        workload
    });
    (service, workloads)
}

/// Sets the split of the route added last, in the order of its service's versions.
fn weigh_last_route(model: &mut MeshModel, weights: &[u32]) {
    if let Some(route) = model.routes.last_mut() {
        for (backend, weight) in route.backends.iter_mut().zip(weights) {
            backend.weight = *weight;
        }
    }
}

fn per_inbound(calls_per_request: f64) -> RouteLoad {
    RouteLoad::PerInbound { calls_per_request }
}

fn fixed(value: f64) -> RouteLoad {
    RouteLoad::Fixed { value }
}

pub fn bookinfo(model: &mut MeshModel, gateway: usize) {
    let ns = "bookinfo";
    model.namespace(ns, true);
    let (productpage, [productpage_v1]) = service(model, ns, "productpage", ["v1"], 6.0);
    let (details, [_]) = service(model, ns, "details", ["v1"], 2.5);
    let (reviews, [_, reviews_v2, reviews_v3]) =
        service(model, ns, "reviews", ["v1", "v2", "v3"], 5.0);
    let (ratings, [_]) = service(model, ns, "ratings", ["v1"], 1.8);
    if let Some(w) = model.workloads.get_mut(reviews_v3) {
        // v3 renders red stars with a slower template: a visibly slower version.
        w.service_time = LatencyProfile::new(9.0, 0.55);
    }
    if let Some(w) = model.workloads.get_mut(reviews_v2) {
        w.pods_ready = 1;
    }
    let client = model.add_workload(unmeshed(ns, "outside-client", false, 1.0));

    let page_ops = [
        ("GET /productpage", 70),
        ("GET /api/v1/products", 15),
        ("GET /api/v1/products/{id}/reviews", 10),
        ("POST /login", 5),
    ];
    model.route(
        gateway,
        productpage,
        RouteDraft::new(Protocol::Http, fixed(24.0), &page_ops),
    );
    model.route(
        client,
        productpage,
        RouteDraft::new(
            Protocol::Http,
            fixed(2.5),
            &[("GET /productpage", 9), ("GET /health", 1)],
        ),
    );
    model.route(
        productpage_v1,
        details,
        RouteDraft::new(
            Protocol::Http,
            per_inbound(0.9),
            &[("GET /details/{id}", 1)],
        )
        .error(ErrorOutcome::server(503, None, 0.04)),
    );
    model.route(
        productpage_v1,
        reviews,
        RouteDraft::new(
            Protocol::Http,
            per_inbound(0.9),
            &[("GET /reviews/{id}", 19), ("GET /health", 1)],
        ),
    );
    let ratings_ops = [("GET /ratings/{id}", 1)];
    model.route(
        reviews_v2,
        ratings,
        RouteDraft::new(Protocol::Http, per_inbound(1.0), &ratings_ops),
    );
    model.route(
        reviews_v3,
        ratings,
        RouteDraft::new(Protocol::Http, per_inbound(1.0), &ratings_ops).error(ErrorOutcome {
            latency_factor: 0.05,
            ..ErrorOutcome::flagged(500, "FI", 0.03, true)
        }),
    );
    // Bookinfo's optional database, deployed but called by no one (ratings v1 keeps its
    // data in memory): an idle service, which the idle-nodes option (`i`) shows.
    service(model, ns, "mysqldb", ["v1"], 1.0);
}

pub fn shop(model: &mut MeshModel, gateway: usize) {
    let ns = "shop";
    model.namespace(ns, true);
    let (frontend, [frontend_v1]) = service(model, ns, "frontend", ["v1"], 4.0);
    let (ad, [_]) = service(model, ns, "ad", ["v1"], 3.0);
    let (cart, [cart_v1]) = service(model, ns, "cart", ["v1"], 2.0);
    let (catalog, [catalog_v1]) = service(model, ns, "catalog", ["v1"], 3.0);
    let (currency, [_]) = service(model, ns, "currency", ["v1"], 1.2);
    let (recommendation, [recommendation_v1, recommendation_v2]) =
        service(model, ns, "recommendation", ["v1", "v2"], 6.0);
    let (shipping, [shipping_v1]) = service(model, ns, "shipping", ["v1"], 4.0);
    let (checkout, [checkout_v1]) = service(model, ns, "checkout", ["v1"], 8.0);
    let (payment, [payment_v1]) = service(model, ns, "payment", ["v1"], 5.0);
    let (email, [_]) = service(model, ns, "email", ["v1"], 7.0);
    let (redis, [_]) = service(model, ns, "redis-cart", ["v1"], 0.6);
    let (postgres, [_]) = service(model, ns, "postgres", ["v1"], 2.5);
    let payments_api = model.add_service(ns, "api.payments.example.com", ServiceKind::ServiceEntry);
    let api_host = model.add_workload(unmeshed(ns, "payments-api", false, 120.0));
    model.serve(payments_api, api_host);
    let carrier = model.add_service(
        "unknown",
        "tracking.carrier.example.org",
        ServiceKind::Passthrough,
    );
    let carrier_host = model.add_workload(unmeshed("unknown", "carrier-api", false, 60.0));
    model.serve(carrier, carrier_host);
    let loadgen = model.add_workload(unmeshed(ns, "loadgenerator", true, 1.0));

    let grpc = Protocol::Grpc;

    let front_ops = [
        ("GET /", 30),
        ("GET /product/{id}", 35),
        ("GET /cart", 12),
        ("POST /cart", 10),
        ("POST /cart/checkout", 5),
        ("POST /setCurrency", 8),
    ];
    model.route(
        gateway,
        frontend,
        RouteDraft::new(Protocol::Http, fixed(30.0), &front_ops)
            // Shoppers asking for products that no longer exist.
            .error(ErrorOutcome::server(404, None, 0.15))
            .error(ErrorOutcome::flagged(0, "DC", 0.004, false)),
    );
    model.route(
        loadgen,
        frontend,
        RouteDraft::new(Protocol::Http, fixed(6.0), &front_ops)
            .error(ErrorOutcome::server(404, None, 0.15)),
    );
    model.route(
        frontend_v1,
        ad,
        RouteDraft::new(
            Protocol::Http,
            per_inbound(0.6),
            &[("GET /ads", 4), ("GET /ads/{category}", 1)],
        )
        .error(ErrorOutcome::server(500, None, 0.12))
        .error(ErrorOutcome::server(503, None, 0.04)),
    );
    model.route(
        frontend_v1,
        cart,
        RouteDraft::new(
            grpc,
            per_inbound(0.5),
            &[
                ("hipstershop.CartService/GetCart", 6),
                ("hipstershop.CartService/AddItem", 3),
                ("hipstershop.CartService/EmptyCart", 1),
            ],
        ),
    );
    let catalog_ops = [
        ("hipstershop.ProductCatalogService/GetProduct", 6),
        ("hipstershop.ProductCatalogService/ListProducts", 3),
        ("hipstershop.ProductCatalogService/SearchProducts", 1),
    ];
    model.route(
        frontend_v1,
        catalog,
        RouteDraft::new(grpc, per_inbound(1.2), &catalog_ops),
    );
    model.route(
        frontend_v1,
        currency,
        RouteDraft::new(
            grpc,
            per_inbound(1.0),
            &[
                ("hipstershop.CurrencyService/Convert", 8),
                ("hipstershop.CurrencyService/GetSupportedCurrencies", 2),
            ],
        ),
    );
    let recommend_ops = [("hipstershop.RecommendationService/ListRecommendations", 1)];
    model.route(
        frontend_v1,
        recommendation,
        RouteDraft::new(grpc, per_inbound(0.4), &recommend_ops),
    );
    let quote_ops = [("hipstershop.ShippingService/GetQuote", 1)];
    model.route(
        frontend_v1,
        shipping,
        RouteDraft::new(grpc, per_inbound(0.15), &quote_ops),
    );
    model.route(
        frontend_v1,
        checkout,
        RouteDraft::new(
            grpc,
            per_inbound(0.05),
            &[("hipstershop.CheckoutService/PlaceOrder", 1)],
        ),
    );
    // The new recommendation version gets a tenth of the traffic, as a canary would.
    weigh_last_route(model, &[9, 1]);
    for recommender in [recommendation_v1, recommendation_v2] {
        model.route(
            recommender,
            catalog,
            RouteDraft::new(grpc, per_inbound(1.0), &catalog_ops[1..2]),
        );
    }
    model.route(
        checkout_v1,
        cart,
        RouteDraft::new(
            grpc,
            per_inbound(1.0),
            &[
                ("hipstershop.CartService/GetCart", 1),
                ("hipstershop.CartService/EmptyCart", 1),
            ],
        ),
    );
    model.route(
        checkout_v1,
        catalog,
        RouteDraft::new(grpc, per_inbound(2.0), &catalog_ops[..1]),
    );
    model.route(
        checkout_v1,
        currency,
        RouteDraft::new(
            grpc,
            per_inbound(2.0),
            &[("hipstershop.CurrencyService/Convert", 1)],
        ),
    );
    model.route(
        checkout_v1,
        shipping,
        RouteDraft::new(
            grpc,
            per_inbound(2.0),
            &[
                ("hipstershop.ShippingService/GetQuote", 1),
                ("hipstershop.ShippingService/ShipOrder", 1),
            ],
        ),
    );
    model.route(
        checkout_v1,
        payment,
        RouteDraft::new(
            grpc,
            per_inbound(1.0),
            &[("hipstershop.PaymentService/Charge", 1)],
        )
        // The client proxy saw the connection drop: 503 UC, mapped to UNAVAILABLE.
        .error(ErrorOutcome {
            grpc_status: Some(GRPC_UNAVAILABLE),
            ..ErrorOutcome::flagged(503, "UC", 0.01, true)
        }),
    );
    model.route(
        checkout_v1,
        email,
        // A DestinationRule with `tls.mode: DISABLE`: the one plain-text hop.
        RouteDraft::new(
            grpc,
            per_inbound(1.0),
            &[("hipstershop.EmailService/SendOrderConfirmation", 1)],
        )
        .plain_text(),
    );
    // The shipping backend is failing: a tenth and more of its calls are UNAVAILABLE.
    for route in model.routes.iter_mut().filter(|r| r.service == shipping) {
        route
            .errors
            .push(ErrorOutcome::server(200, Some(GRPC_UNAVAILABLE), 0.16));
    }
    model.route(
        shipping_v1,
        carrier,
        RouteDraft::new(
            Protocol::Http,
            per_inbound(0.5),
            &[("GET /track/{id}", 3), ("POST /labels", 1)],
        ),
    );
    model.route(
        payment_v1,
        payments_api,
        RouteDraft::new(Protocol::Http, per_inbound(1.0), &[("POST /v1/charges", 1)]),
    );
    let no_ops: [(&str, u32); 0] = [];
    model.route(
        cart_v1,
        redis,
        RouteDraft::new(Protocol::Tcp, per_inbound(3.0), &no_ops),
    );
    model.route(
        catalog_v1,
        postgres,
        RouteDraft::new(Protocol::Tcp, per_inbound(0.7), &no_ops),
    );
}

/// Bookinfo and the shop behind one ingress gateway.
pub fn default_mesh() -> MeshModel {
    let mut model = MeshModel::default();
    let gateway = ingress_gateway(&mut model);
    bookinfo(&mut model, gateway);
    shop(&mut model, gateway);
    model.include_downstream_latency();
    model
}
