//! A Kubernetes API server in memory for the kube source's tests: the real REST wire
//! format (discovery, lists with resourceVersion and pagination, single GETs, chunked
//! watch streams with periodic bookmarks, `Status` errors 401/403/404/409/410/422/500,
//! throttling 429s, the service proxy, pod logs with follow; writes with server-side apply, field ownership
//! and dry runs; SelfSubjectAccessReviews; Istio's CRDs) over HTTP on 127.0.0.1, so the
//! real `kube::Client` talks to it unchanged; and hooks to change objects, refuse rights
//! and inject faults.

mod access;
mod bookinfo;
mod crds;
mod discovery;
mod fields;
mod logs;
mod managed;
mod proxy;
mod resources;
mod server;
mod store;
mod typed;
mod wire;
mod writes;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

pub use bookinfo::{bookinfo_objects, endpoint_slice, pod_ip, pod_name, service, EndpointTarget};
pub use resources::IstioApis;
use store::State;

/// How every request fails while a fault is set, as a real API server fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// API Priority and Fairness turns the request away: 429, `Retry-After`.
    TooManyRequests { retry_after_s: u32 },
    /// The storage behind the server fails: 500 with this message (e.g.
    /// "etcdserver: request timed out").
    InternalError(String),
}

/// What kind of cluster the emulator is.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    pub istio: IstioApis,
    /// How often watches that allow bookmarks get one. The API server sends them about
    /// once a minute.
    pub bookmark_interval: Duration,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            istio: IstioApis::default(),
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

pub struct KubeEmulator {
    state: Arc<Mutex<State>>,
    address: SocketAddr,
    server: Mutex<Option<JoinHandle<()>>>,
    bookmarks: JoinHandle<()>,
}

impl KubeEmulator {
    /// Starts an empty API server on a free loopback port.
    pub async fn start() -> Self {
        Self::start_with(EmulatorOptions::default()).await
    }

    pub async fn start_with(options: EmulatorOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the emulator to a loopback port");
        let address = listener.local_addr().expect("the emulator's address");
        let mut state = State::default();
        state.istio = options.istio;
        state.address = address.to_string();
        for crd in crds::istio_crds(options.istio) {
            state.create(crd);
        }
        let state = Arc::new(Mutex::new(state));
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));
        let bookmarks = tokio::spawn(send_bookmarks(
            Arc::clone(&state),
            options.bookmark_interval,
        ));
        KubeEmulator {
            state,
            address,
            server: Mutex::new(Some(server)),
            bookmarks,
        }
    }

    /// Starts the API server holding `objects`.
    pub async fn with_objects(objects: impl IntoIterator<Item = Value>) -> Self {
        Self::with_options_and_objects(EmulatorOptions::default(), objects).await
    }

    pub async fn with_options_and_objects(
        options: EmulatorOptions,
        objects: impl IntoIterator<Item = Value>,
    ) -> Self {
        let emulator = Self::start_with(options).await;
        for object in objects {
            emulator.create(object);
        }
        emulator
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A real `kube::Client` pointed at the emulator, with no credentials.
    pub fn client(&self) -> kube::Client {
        let url = self.url().parse().expect("the emulator's URL");
        kube::Client::try_from(kube::Config::new(url)).expect("a kube client for the emulator")
    }

    /// A kubeconfig in `dir` whose current context points at the emulator with a token,
    /// for the meshtui binary.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("creating the kubeconfig's directory");
        let file = dir.join("config");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: emulator\n  cluster:\n    server: {}\n\
             contexts:\n- name: emulator\n  context:\n    cluster: emulator\n    user: tester\n\
             current-context: emulator\nusers:\n- name: tester\n  user:\n    token: test-token\n",
            self.url()
        );
        std::fs::write(&file, text).expect("writing the kubeconfig");
        file
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates an object (`apiVersion`, `kind`, `metadata.name` and, for namespaced
    /// kinds, `metadata.namespace` set); returns it as stored. Open watches see ADDED.
    pub fn create(&self, object: Value) -> Value {
        self.state().create(object)
    }

    /// Replaces an existing object; open watches see MODIFIED.
    pub fn replace(&self, object: Value) -> Value {
        self.state().replace(object)
    }

    /// Deletes an object; open watches see DELETED with its final state.
    pub fn delete(&self, api_version: &str, kind: &str, namespace: &str, name: &str) {
        self.state().delete(api_version, kind, namespace, name);
    }

    /// The object as stored (with `managedFields`), without `apiVersion`/`kind`.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let probe = serde_json::json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": namespace}
        });
        let (_, _, key) = State::key_of(&probe);
        self.state().objects.get(&key).cloned()
    }

    pub fn resource_version(&self) -> u64 {
        self.state().resource_version
    }

    /// Sends a BOOKMARK with the current resourceVersion to watches that allow them.
    pub fn bookmark(&self) {
        self.state().bookmark();
    }

    /// Ends every open watch stream cleanly, as an API server does on its own timeouts
    /// or a load balancer does on idle connections.
    pub fn drop_watches(&self) {
        self.state().watches.clear();
    }

    /// Until resumed, changes are stored but not sent to open watches: they fell behind.
    pub fn pause_delivery(&self) {
        self.state().delivery_paused = true;
    }

    pub fn resume_delivery(&self) {
        self.state().delivery_paused = false;
    }

    /// Forgets the history before the current resourceVersion (etcd compaction): watches
    /// and continue tokens from older versions answer 410 Gone.
    pub fn compact(&self) {
        let mut state = self.state();
        state.oldest_valid_version = state.resource_version;
        let oldest = state.oldest_valid_version;
        state.log.retain(|e| e.resource_version > oldest);
    }

    /// RBAC: the user may no longer read anything in `namespace` (nor list namespaced
    /// kinds across all namespaces).
    pub fn forbid_namespace(&self, namespace: &str) {
        self.state()
            .forbidden_namespaces
            .insert(namespace.to_owned());
    }

    pub fn allow_namespace(&self, namespace: &str) {
        let mut state = self.state();
        state.forbidden_namespaces.remove(namespace);
        state.read_only_namespaces.remove(namespace);
    }

    /// RBAC: the user may read `namespace` but not create, change or delete anything in it
    /// (a `view` role).
    pub fn forbid_writes(&self, namespace: &str) {
        self.state()
            .read_only_namespaces
            .insert(namespace.to_owned());
    }

    /// RBAC: the user may not read CustomResourceDefinitions (a cluster-scoped kind most
    /// users get no rights to).
    pub fn forbid_crds(&self) {
        self.state().crds_forbidden = true;
    }

    /// Every request so far, as `METHOD path?query`, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state().requests.clone()
    }

    /// The requests so far that could change something (not GET).
    pub fn writes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| !r.starts_with("GET "))
            .collect()
    }

    /// Every request answers 401 Unauthorized (expired or revoked credentials).
    pub fn reject_credentials(&self, reject: bool) {
        self.state().reject_credentials = reject;
    }

    /// Until called with `None`, every new request (discovery and `/version` included)
    /// fails this way; open watches carry on.
    pub fn fail_requests(&self, fault: Option<Fault>) {
        self.state().fault = fault;
    }

    /// The address the service proxy reaches Service `namespace/name` at (its endpoint,
    /// on whichever of its ports is asked for). The Service must exist too.
    pub fn route_service(&self, namespace: &str, name: &str, backend: SocketAddr) {
        assert!(
            backend.ip().is_loopback(),
            "backends are loopback addresses"
        );
        self.state()
            .service_backends
            .insert((namespace.to_owned(), name.to_owned()), backend);
    }

    /// Appends a line to a container's log (the pod need not exist: a log outlives
    /// nothing, but tests may write first); open follows of it get the line at once.
    pub fn append_log(&self, namespace: &str, pod: &str, container: &str, line: &str) {
        self.state().logs.append(namespace, pod, container, line);
    }

    /// Ends every open log follow cleanly (the answer's body ends); returns how many.
    pub fn drop_log_streams(&self) -> usize {
        self.state().logs.drop_streams()
    }

    /// Log follows whose client is still connected.
    pub fn open_log_streams(&self) -> usize {
        self.state().logs.open_streams()
    }

    /// Takes the API server down: the port refuses connections and open connections,
    /// watch streams included, are cut.
    pub fn go_down(&self) {
        if let Some(server) = self.server.lock().unwrap_or_else(|p| p.into_inner()).take() {
            server.abort();
        }
        self.state().watches.clear();
    }

    /// Brings the API server back on the same port, with the same objects.
    pub async fn come_back(&self) {
        let listener = TcpListener::bind(self.address)
            .await
            .expect("rebinding the emulator's port");
        let server = tokio::spawn(serve(listener, Arc::clone(&self.state)));
        *self.server.lock().unwrap_or_else(|p| p.into_inner()) = Some(server);
    }
}

impl Drop for KubeEmulator {
    fn drop(&mut self) {
        self.bookmarks.abort();
        self.go_down();
    }
}

/// A BOOKMARK to every watch that allows them, every `interval`, as the API server's
/// watch cache sends them.
async fn send_bookmarks(state: Arc<Mutex<State>>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        state.lock().unwrap_or_else(|p| p.into_inner()).bookmark();
    }
}

/// Accepts connections until aborted; aborting drops the listener and, with the set,
/// every connection.
async fn serve(listener: TcpListener, state: Arc<Mutex<State>>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        let state = Arc::clone(&state);
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let state = Arc::clone(&state);
                async move {
                    let response = server::handle(request, state).await;
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            // A client hanging up mid-stream is normal for watches.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
