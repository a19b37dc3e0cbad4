//! The service proxy, `/api/v1/namespaces/{ns}/services/[scheme:]{name}[:port]/proxy/...`:
//! checks as the API server does (RBAC on `services/proxy`, the Service and its port),
//! then passes the request to the address registered as the Service's endpoint, over
//! TLS when the scheme is `https` (without verifying the certificate, as the API server's
//! proxy does not), and hands back the answer as it came.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::json;

use super::resources::RESOURCES;
use super::server::USER;
use super::store::{ObjectKey, State};
use super::wire::{status_response, ApiBody};

/// Where an admitted proxy request goes.
pub struct ProxyTarget {
    address: SocketAddr,
    tls: bool,
    /// The path after `/proxy` (at least `/`), with the query.
    path_and_query: String,
}

/// Whether `path` is the service proxy's (whose requests pass on with their bodies).
pub fn is_proxy_path(path: &str) -> bool {
    path.strip_prefix("/api/v1/namespaces/")
        .map(|rest| rest.splitn(5, '/').collect::<Vec<_>>())
        .is_some_and(|parts| parts.len() >= 4 && parts[1] == "services" && parts[3] == "proxy")
}

/// `None` for paths that are not the service proxy; otherwise where to send the request,
/// or the API server's refusal.
pub fn route(
    request: &Request<Incoming>,
    state: &State,
) -> Option<Result<ProxyTarget, Response<ApiBody>>> {
    let path = request.uri().path();
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let mut parts = rest.splitn(5, '/');
    let (namespace, services, id, proxy) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if services != "services" || proxy != "proxy" {
        return None;
    }
    let tail = parts.next().unwrap_or("");
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let admitted = admit(state, namespace, id).map_err(|refusal| *refusal);
    Some(admitted.map(|(address, tls)| ProxyTarget {
        address,
        tls,
        path_and_query: format!("/{tail}{query}"),
    }))
}

/// `[scheme:]name[:port]`, as the API server splits a service proxy's name.
fn split_id(id: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => ("", *name, ""),
        [name, port] => ("", *name, *port),
        [scheme, name, port] => (*scheme, *name, *port),
        _ => return None,
    };
    (!name.is_empty() && matches!(scheme, "" | "http" | "https")).then_some((scheme, name, port))
}

fn admit(
    state: &State,
    namespace: &str,
    id: &str,
) -> Result<(SocketAddr, bool), Box<Response<ApiBody>>> {
    if state.forbidden_namespaces.contains(namespace) {
        return Err(Box::new(status_response(
            403,
            "Forbidden",
            &format!(
                "services \"{id}\" is forbidden: User \"{USER}\" cannot get resource \"services/proxy\" in API group \"\" in the namespace \"{namespace}\""
            ),
            Some(json!({"name": id, "kind": "services"})),
        )));
    }
    let Some((scheme, name, port)) = split_id(id) else {
        return Err(Box::new(status_response(
            400,
            "BadRequest",
            &format!("invalid service request \"{id}\""),
            None,
        )));
    };
    let services = RESOURCES
        .iter()
        .position(|r| r.kind == "Service")
        .unwrap_or_default();
    let key = ObjectKey {
        resource: services,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    };
    let Some(service) = state.objects.get(&key) else {
        return Err(Box::new(status_response(
            404,
            "NotFound",
            &format!("services \"{name}\" not found"),
            Some(json!({"name": name, "kind": "services"})),
        )));
    };
    let ports = service["spec"]["ports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let port_matches = ports.iter().any(|p| {
        p["name"].as_str() == Some(port)
            || p["port"].as_u64().map(|n| n.to_string()).as_deref() == Some(port)
    }) || (port.is_empty() && ports.len() == 1);
    let backend = state
        .service_backends
        .get(&(namespace.to_owned(), name.to_owned()))
        .filter(|_| port_matches);
    match backend {
        Some(address) => Ok((*address, scheme == "https")),
        None => Err(Box::new(status_response(
            503,
            "ServiceUnavailable",
            &format!("no endpoints available for service \"{name}\""),
            None,
        ))),
    }
}

/// Sends the request on and answers with what came back; a backend that cannot be
/// reached is a 503, as the API server reports it.
pub async fn forward(request: Request<Incoming>, target: ProxyTarget) -> Response<ApiBody> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        parts.method,
        target.path_and_query,
        target.address,
        body.len()
    );
    for (name, value) in &parts.headers {
        // The API server keeps the user's credentials to itself, and speaks HTTP/1.1 on
        // its own terms.
        let skip = matches!(
            name.as_str(),
            "authorization" | "host" | "connection" | "content-length" | "transfer-encoding"
        );
        if let (false, Ok(value)) = (skip, value.to_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    let (address, tls) = (target.address, target.tls);
    let exchanged =
        tokio::task::spawn_blocking(move || exchange(address, tls, head.as_bytes(), &body))
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e.to_string())));
    match exchanged.and_then(|raw| parse_response(&raw)) {
        Ok(response) => response,
        Err(error) => {
            let reason = if error.kind() == io::ErrorKind::ConnectionRefused {
                format!("dial tcp {address}: connect: connection refused")
            } else {
                error.to_string()
            };
            status_response(
                503,
                "ServiceUnavailable",
                &format!("error trying to reach service: {reason}"),
                None,
            )
        }
    }
}

/// One request on a fresh connection, read to its end.
fn exchange(address: SocketAddr, tls: bool, head: &[u8], body: &[u8]) -> io::Result<Vec<u8>> {
    let tcp = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    tcp.set_read_timeout(Some(Duration::from_secs(120)))?;
    if tls {
        let server_name = ServerName::IpAddress(address.ip().into());
        let connection = rustls::ClientConnection::new(insecure_client_config()?, server_name)
            .map_err(io::Error::other)?;
        send_and_read(rustls::StreamOwned::new(connection, tcp), head, body)
    } else {
        send_and_read(tcp, head, body)
    }
}

fn send_and_read(mut stream: impl Read + Write, head: &[u8], body: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(head)?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            // A TLS peer that closes without close_notify still sent a whole answer.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => return Err(e),
        }
    }
    if raw.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF"));
    }
    Ok(raw)
}

fn parse_response(raw: &[u8]) -> io::Result<Response<ApiBody>> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "malformed HTTP response");
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad())?;
    let mut body = raw[end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let code: u16 = lines
        .next()
        .and_then(|status| status.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(bad)?;
    let mut response = Response::builder().status(StatusCode::from_u16(code).map_err(|_| bad())?);
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" | "content-length" | "keep-alive" => {}
            _ => response = response.header(name, value),
        }
    }
    if chunked {
        body = dechunk(&body).ok_or_else(bad)?;
    }
    response
        .body(Full::new(Bytes::from(body)).boxed())
        .map_err(|_| bad())
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

fn insecure_client_config() -> io::Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts any certificate, but still checks that the peer holds its key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
