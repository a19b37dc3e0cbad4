//! The demo mesh's `/metrics` endpoint: what a Prometheus scraping the mesh's proxies would
//! read. The demo task publishes a fresh exposition on a watch channel after every step; an
//! HTTP/1.1 server hands out the latest one.

mod exposition;

#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub use exposition::{render_metrics, CONTENT_TYPE as EXPOSITION_CONTENT_TYPE};

/// The latest exposition; `None` until the mesh has been built.
pub type Exposition = Option<Bytes>;

#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    #[error("cannot listen for /metrics on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serve /metrics on {addr}: {source}")]
    Serve {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A socket bound for `/metrics`, not serving yet. Binding apart from serving lets a caller
/// fail at start-up on a port in use, and learn the port the system chose for port 0.
#[derive(Debug, Clone)]
pub struct MetricsListener {
    // Shared so that `DemoSource` stays `Clone`; serving duplicates the descriptor.
    socket: Arc<std::net::TcpListener>,
    local_addr: SocketAddr,
}

impl MetricsListener {
    /// Binds now; needs no async runtime.
    pub fn bind(addr: SocketAddr) -> Result<Self, ExporterError> {
        let bind_error = |source| ExporterError::Bind { addr, source };
        let socket = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        // tokio requires a non-blocking socket.
        socket.set_nonblocking(true).map_err(bind_error)?;
        let local_addr = socket.local_addr().map_err(bind_error)?;
        Ok(MetricsListener {
            socket: Arc::new(socket),
            local_addr,
        })
    }

    /// The address actually bound (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts serving on the current tokio runtime until every sender of `latest` is gone.
    pub fn serve(&self, latest: watch::Receiver<Exposition>) -> Result<(), ExporterError> {
        let serve_error = |source| ExporterError::Serve {
            addr: self.local_addr,
            source,
        };
        let socket = self.socket.try_clone().map_err(serve_error)?;
        let listener = TcpListener::from_std(socket).map_err(serve_error)?;
        tokio::spawn(accept_loop(listener, latest));
        Ok(())
    }
}

async fn accept_loop(listener: TcpListener, latest: watch::Receiver<Exposition>) {
    let mut publisher_gone = latest.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, latest.clone()));
                }
                // Out of descriptors, or a connection reset before it was accepted: pause
                // briefly so that a persistent failure does not spin, then keep listening.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            changed = publisher_gone.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

async fn serve_connection(stream: TcpStream, latest: watch::Receiver<Exposition>) {
    let service = service_fn(move |request: Request<Incoming>| {
        let response = respond(request.method(), request.uri().path(), &latest.borrow());
        async move { Ok::<_, Infallible>(response) }
    });
    // A client hanging up mid-request concerns only that client: nothing to report.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The answer to one request, given the latest exposition.
fn respond(method: &Method, path: &str, latest: &Exposition) -> Response<Full<Bytes>> {
    if path != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "only /metrics is served here\n");
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let Some(body) = latest else {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the demo mesh is still starting\n",
        );
    };
    let mut response = Response::new(Full::new(body.clone()));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(EXPOSITION_CONTENT_TYPE),
    );
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
