//! The emulator's wire format where the kube source's tests lean on it: discovery as
//! the real `kube::Discovery` reads it, periodic bookmarks, the failures an overloaded or
//! broken API server sends, and the service proxy.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::http::Request;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::discovery::{verbs, Discovery, Scope};
use kube::runtime::WatchStreamExt;
use serde_json::{json, Value};

use crate::support::fake_prometheus::{Behaviour, FakePrometheus};
use crate::support::kube_emulator::{
    bookinfo_objects, EmulatorOptions, Fault, IstioApis, KubeEmulator,
};
use crate::support::prometheus::free_loopback_address;
use crate::support::tls::TlsFront;

async fn next<S: WatchStreamExt>(stream: &mut Pin<&mut S>) -> Option<S::Item> {
    poll_fn(|cx| stream.as_mut().poll_next(cx)).await
}

async fn get_json(client: &kube::Client, path: &str) -> Value {
    let request = Request::get(path).body(Vec::new()).unwrap();
    client.request::<Value>(request).await.unwrap()
}

#[tokio::test]
async fn discovery_lists_the_groups_versions_and_resources_served() {
    let emulator = KubeEmulator::start().await;
    let client = emulator.client();
    let discovery = Discovery::new(client.clone()).run().await.unwrap();

    let (pods, capabilities) = discovery.get("").unwrap().recommended_kind("Pod").unwrap();
    assert_eq!(
        (pods.plural.as_str(), pods.version.as_str()),
        ("pods", "v1")
    );
    assert_eq!(capabilities.scope, Scope::Namespaced);
    assert!(capabilities.supports_operation(verbs::WATCH));
    let (namespaces, capabilities) = discovery
        .get("")
        .unwrap()
        .recommended_kind("Namespace")
        .unwrap();
    assert_eq!(namespaces.plural, "namespaces");
    assert_eq!(capabilities.scope, Scope::Cluster);
    assert!(discovery
        .get("apps")
        .unwrap()
        .recommended_kind("StatefulSet")
        .is_some());

    let networking = discovery.get("networking.istio.io").unwrap();
    assert_eq!(
        networking.versions().collect::<Vec<_>>(),
        ["v1", "v1beta1", "v1alpha3"]
    );
    assert_eq!(networking.preferred_version(), Some("v1"));
    let (routes, _) = networking.recommended_kind("VirtualService").unwrap();
    assert_eq!(routes.api_version, "networking.istio.io/v1");
    let security = discovery.get("security.istio.io").unwrap();
    assert_eq!(security.versions().collect::<Vec<_>>(), ["v1", "v1beta1"]);

    // The fields discovery clients other than kube read.
    let core = get_json(&client, "/api").await;
    assert_eq!(core["kind"], "APIVersions");
    assert_eq!(core["versions"], json!(["v1"]));
    assert_eq!(
        core["serverAddressByClientCIDRs"][0]["serverAddress"],
        emulator.url().trim_start_matches("http://")
    );
    let v1 = get_json(&client, "/api/v1").await;
    assert_eq!(
        (v1["kind"].as_str(), v1.get("apiVersion")),
        (Some("APIResourceList"), None)
    );
    let pods = v1["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap();
    assert_eq!(pods["singularName"], "pod");
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["storageVersionHash"], "xPOwRZ+Yhw8=");
    let names: Vec<&str> = v1["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["namespaces", "pods", "services", "services/proxy"]);
    let group = get_json(&client, "/apis/networking.istio.io").await;
    assert_eq!(group["kind"], "APIGroup");
    assert_eq!(
        group["preferredVersion"]["groupVersion"],
        "networking.istio.io/v1"
    );
    let list = get_json(&client, "/apis/networking.istio.io/v1beta1").await;
    assert_eq!(
        (list["kind"].as_str(), list["apiVersion"].as_str()),
        (Some("APIResourceList"), Some("v1"))
    );
    let routes = &list["resources"].as_array().unwrap()[0];
    assert_eq!(
        routes["categories"],
        json!(["istio-io", "networking-istio-io"])
    );
}

#[tokio::test]
async fn istio_before_1_22_serves_its_kinds_at_v1beta1_only() {
    let options = EmulatorOptions {
        istio: IstioApis::Before1_22,
        ..EmulatorOptions::default()
    };
    let emulator = KubeEmulator::start_with(options).await;
    let client = emulator.client();
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let networking = discovery.get("networking.istio.io").unwrap();
    assert_eq!(
        networking.versions().collect::<Vec<_>>(),
        ["v1beta1", "v1alpha3"]
    );
    assert_eq!(networking.preferred_version(), Some("v1beta1"));
    let security = discovery.get("security.istio.io").unwrap();
    assert_eq!(security.versions().collect::<Vec<_>>(), ["v1beta1"]);

    let request = Request::get("/apis/networking.istio.io/v1/virtualservices")
        .body(Vec::new())
        .unwrap();
    let error = client.request::<Value>(request).await.unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref e) if e.code == 404 && e.reason == "NotFound"),
        "{error:?}"
    );
    let listed = get_json(&client, "/apis/networking.istio.io/v1beta1/virtualservices").await;
    assert_eq!(listed["apiVersion"], "networking.istio.io/v1beta1");

    let without = KubeEmulator::start_with(EmulatorOptions {
        istio: IstioApis::NotInstalled,
        ..EmulatorOptions::default()
    })
    .await;
    let discovery = Discovery::new(without.client()).run().await.unwrap();
    assert!(discovery.get("networking.istio.io").is_none());
    assert!(discovery.get("apps").is_some());
}

#[tokio::test]
async fn watches_that_allow_bookmarks_get_them_periodically_and_the_others_never() {
    let options = EmulatorOptions {
        bookmark_interval: Duration::from_millis(50),
        ..EmulatorOptions::default()
    };
    let emulator = KubeEmulator::with_options_and_objects(options, bookinfo_objects()).await;
    let pods: Api<Pod> = Api::namespaced(emulator.client(), "bookinfo");
    let version = emulator.resource_version().to_string();
    let plain = pods
        .watch(&WatchParams::default().disable_bookmarks(), &version)
        .await
        .unwrap();
    let mut plain = std::pin::pin!(plain);
    let marked = pods.watch(&WatchParams::default(), &version).await.unwrap();
    let mut marked = std::pin::pin!(marked);
    // Two bookmarks, without asking for any: a tick passed after both watches opened.
    for _ in 0..2 {
        let event = next(&mut marked).await.unwrap().unwrap();
        assert!(
            matches!(event, WatchEvent::Bookmark(ref b) if b.metadata.resource_version == version),
            "{event:?}"
        );
    }
    let mut pod = bookinfo_objects()
        .into_iter()
        .find(|o| o["kind"] == "Pod" && o["metadata"]["namespace"] == "bookinfo")
        .unwrap();
    pod["metadata"]["name"] = json!("after-the-bookmarks");
    emulator.create(pod);
    let first = next(&mut plain).await.unwrap().unwrap();
    assert!(
        matches!(first, WatchEvent::Added(ref p) if p.metadata.name.as_deref() == Some("after-the-bookmarks")),
        "a watch without bookmarks got {first:?}"
    );
}

#[tokio::test]
async fn throttling_answers_429_in_plain_text_and_a_storage_failure_a_500_status() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let client = emulator.client();
    let pods: Api<Pod> = Api::all(client.clone());

    emulator.fail_requests(Some(Fault::TooManyRequests { retry_after_s: 3 }));
    let request = Request::get("/api/v1/pods")
        .body(kube::client::Body::empty())
        .unwrap();
    let response = client.send(request).await.unwrap();
    assert_eq!(response.status(), 429);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("retry-after"), "3");
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"Too many requests, please try again later.\n");
    let throttled = pods.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(throttled, kube::Error::Api(ref e) if e.code == 429),
        "{throttled:?}"
    );

    emulator.fail_requests(Some(Fault::InternalError(
        "etcdserver: request timed out".into(),
    )));
    let failed = pods.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(failed, kube::Error::Api(ref e)
            if e.code == 500 && e.status == "Failure" && e.reason.is_empty()
                && e.message == "etcdserver: request timed out"),
        "{failed:?}"
    );

    emulator.fail_requests(None);
    assert_eq!(
        pods.list(&ListParams::default()).await.unwrap().items.len(),
        8
    );
}

/// The Prometheus Service Bookinfo does not have, on a port named `http-web`.
fn prometheus_service() -> Value {
    let mut service = crate::support::kube_emulator::service("istio-system", "prometheus", 9090);
    service["spec"]["ports"][0]["name"] = json!("http-web");
    service
}

#[tokio::test]
async fn the_service_proxy_reaches_a_service_over_http_or_https_as_its_name_says() {
    let fake = FakePrometheus::start("/api/v1/query", Behaviour::Answer).await;
    let tls = TlsFront::start(fake.address);
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    emulator.create(prometheus_service());
    emulator.create(crate::support::kube_emulator::service(
        "monitoring",
        "secure",
        9090,
    ));
    emulator.route_service("istio-system", "prometheus", fake.address);
    emulator.route_service("monitoring", "secure", tls.address);
    let client = emulator.client();

    let plain = get_json(
        &client,
        "/api/v1/namespaces/istio-system/services/prometheus:http-web/proxy/api/v1/query?query=up&time=1",
    )
    .await;
    assert_eq!(plain["status"], "success");
    let recorded = fake.requests();
    assert_eq!(
        recorded.last().unwrap().target,
        "/api/v1/query?query=up&time=1"
    );
    assert_eq!(recorded.last().unwrap().header("authorization"), None);

    let secure = get_json(
        &client,
        "/api/v1/namespaces/monitoring/services/https:secure:9090/proxy/api/v1/query?query=up",
    )
    .await;
    assert_eq!(secure["status"], "success");

    let refusal = |path: &'static str| {
        let client = client.clone();
        async move {
            let request = Request::get(path).body(Vec::new()).unwrap();
            match client.request::<Value>(request).await.unwrap_err() {
                kube::Error::Api(e) => (e.code, e.message),
                other => panic!("{path}: {other:?}"),
            }
        }
    };
    // Plain HTTP to a TLS port: the server's own refusal comes back.
    let (code, message) =
        refusal("/api/v1/namespaces/monitoring/services/secure:9090/proxy/api/v1/query").await;
    assert_eq!(code, 400, "{message}");
    assert!(
        message.contains("Client sent an HTTP request to an HTTPS server"),
        "{message}"
    );
    // A Service without a reachable endpoint.
    emulator.route_service("monitoring", "secure", free_loopback_address());
    let (code, message) =
        refusal("/api/v1/namespaces/monitoring/services/https:secure:9090/proxy/").await;
    assert_eq!(code, 503, "{message}");
    assert!(
        message.starts_with("error trying to reach service: dial tcp"),
        "{message}"
    );
    let (code, message) =
        refusal("/api/v1/namespaces/istio-system/services/nope:9090/proxy/").await;
    assert_eq!(
        (code, message.as_str()),
        (404, "services \"nope\" not found")
    );
    let (code, message) =
        refusal("/api/v1/namespaces/istio-system/services/ftp:prometheus:9090/proxy/").await;
    assert_eq!(code, 400, "{message}");
    let (code, message) =
        refusal("/api/v1/namespaces/istio-system/services/prometheus:9999/proxy/").await;
    assert_eq!(code, 503, "{message}");
    emulator.forbid_namespace("istio-system");
    let (code, message) =
        refusal("/api/v1/namespaces/istio-system/services/prometheus:9090/proxy/").await;
    assert_eq!(code, 403);
    assert!(
        message.contains("cannot get resource \"services/proxy\""),
        "{message}"
    );
}
