//! A client for the one endpoint of the Prometheus HTTP API meshtui uses, `/api/v1/query`,
//! reached directly (Prometheus, Thanos, Mimir, VictoriaMetrics: same API, possibly under a
//! path prefix) or through the Kubernetes API's service proxy, so a bastion host needs no
//! port-forward.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Once;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::Url;

use super::decode::{decode_vector, DecodeError, VectorSample};
use super::error::{excerpt, is_connection_refused, root_cause, PrometheusError};

/// Where Prometheus answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A base URL; `/api/v1/query` is appended to its path, so `https://mimir/prometheus`
    /// queries `https://mimir/prometheus/api/v1/query`.
    Direct(Url),
    /// A Service reached through the Kubernetes API server's proxy:
    /// `/api/v1/namespaces/{namespace}/services/[https:]{service}:{port}/proxy/api/v1/query`.
    KubeProxy {
        namespace: String,
        service: String,
        /// A port number or a port name of the Service.
        port: String,
        /// The API server speaks HTTPS to the Service (`https:` before its name); it does
        /// not check the Service's certificate.
        https: bool,
    },
}

impl fmt::Display for Endpoint {
    /// How messages name the endpoint: never with credentials or a query string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Direct(url) => {
                let mut shown = url.clone();
                let _ = shown.set_username("");
                let _ = shown.set_password(None);
                shown.set_query(None);
                shown.set_fragment(None);
                f.write_str(shown.as_str().trim_end_matches('/'))
            }
            Endpoint::KubeProxy {
                namespace,
                service,
                port,
                https,
            } => {
                let scheme = if *https { "https:" } else { "" };
                write!(f, "kube:{namespace}/{scheme}{service}:{port}")
            }
        }
    }
}

impl FromStr for Endpoint {
    type Err = PrometheusError;

    /// `http(s)://host[:port][/prefix]` or `kube:namespace/[http:|https:]service:port`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || PrometheusError::BadEndpoint(text.to_owned());
        if let Some(rest) = text.strip_prefix("kube:") {
            let (namespace, service_port) = rest.split_once('/').ok_or_else(bad)?;
            // The API server's own syntax for a service proxy: [scheme:]name:port.
            let (https, service_port) = match service_port.split_once(':') {
                Some(("https", rest)) => (true, rest),
                Some(("http", rest)) => (false, rest),
                _ => (false, service_port),
            };
            let (service, port) = service_port.split_once(':').ok_or_else(bad)?;
            // Each part becomes a path segment of an API server URL: allow nothing that
            // could leave that segment.
            let is_name = |s: &str| {
                !s.is_empty()
                    && s.len() <= 63
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            };
            if !(is_name(namespace) && is_name(service) && is_name(port)) {
                return Err(bad());
            }
            return Ok(Endpoint::KubeProxy {
                namespace: namespace.into(),
                service: service.into(),
                port: port.into(),
                https,
            });
        }
        let url = Url::parse(text).map_err(|_| bad())?;
        let usable = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none();
        if usable {
            Ok(Endpoint::Direct(url))
        } else {
            Err(bad())
        }
    }
}

/// Credentials sent with every query.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    #[default]
    None,
    Bearer(String),
    BasicAuth {
        user: String,
        password: String,
    },
}

impl fmt::Debug for Auth {
    /// Never prints a secret, in logs or panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::BasicAuth { user, .. } => write!(f, "BasicAuth {{ user: {user:?}, .. }}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusSettings {
    pub endpoint: Endpoint,
    pub auth: Auth,
    /// Extra headers for every query, e.g. `X-Scope-OrgID` for Mimir's tenants.
    pub headers: Vec<(String, String)>,
    /// PEM file with the CA certificates to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate. Only when the user asked for it.
    pub insecure_skip_tls_verify: bool,
    /// How long one query may take, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

impl PrometheusSettings {
    /// Settings with no credentials, no extra headers and a 10 s timeout.
    pub fn new(endpoint: Endpoint) -> Self {
        PrometheusSettings {
            endpoint,
            auth: Auth::None,
            headers: Vec::new(),
            ca_file: None,
            insecure_skip_tls_verify: false,
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
enum Transport {
    Http {
        client: reqwest::Client,
        base: Url,
    },
    Kube {
        client: kube::Client,
        path: String,
        https: bool,
    },
}

/// Sends instant queries; cheap to clone (the connections are shared).
#[derive(Clone)]
pub struct PrometheusClient {
    transport: Transport,
    /// Headers besides credentials, sent on the Kubernetes path (reqwest has them built in).
    headers: HeaderMap,
    timeout: Duration,
    name: String,
}

impl fmt::Debug for PrometheusClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrometheusClient")
            .field("endpoint", &self.name)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PrometheusClient {
    /// `kube` is needed only for [`Endpoint::KubeProxy`]; it carries the cluster's address
    /// and credentials, so that meshtui reaches Prometheus as the user reaches the cluster.
    pub fn new(
        settings: &PrometheusSettings,
        kube: Option<kube::Client>,
    ) -> Result<Self, PrometheusError> {
        let name = settings.endpoint.to_string();
        let headers = extra_headers(&settings.headers)?;
        let transport = match &settings.endpoint {
            Endpoint::Direct(base) => Transport::Http {
                client: http_client(settings, headers.clone())?,
                base: base.clone(),
            },
            Endpoint::KubeProxy {
                namespace,
                service,
                port,
                https,
            } => {
                if settings.auth != Auth::None {
                    // The API server reads the Authorization header as the user's own
                    // credentials and does not pass it on.
                    return Err(PrometheusError::ClientSetup(
                        "credentials for Prometheus cannot be sent through the Kubernetes API proxy, which uses the Authorization header itself".into(),
                    ));
                }
                let client = kube.ok_or_else(|| PrometheusError::NoKubeClient {
                    endpoint: name.clone(),
                })?;
                let scheme = if *https { "https:" } else { "" };
                Transport::Kube {
                    client,
                    path: format!(
                        "/api/v1/namespaces/{namespace}/services/{scheme}{service}:{port}/proxy/api/v1/query"
                    ),
                    https: *https,
                }
            }
        };
        Ok(PrometheusClient {
            transport,
            headers,
            timeout: settings.timeout,
            name,
        })
    }

    /// The endpoint as messages name it.
    pub fn endpoint_name(&self) -> &str {
        &self.name
    }

    /// Evaluates `promql` at `time_unix_s`. The time is always explicit, so that a replay
    /// of a past moment reads the same numbers as it would have then.
    pub async fn instant_query(
        &self,
        promql: &str,
        time_unix_s: f64,
    ) -> Result<Vec<VectorSample>, PrometheusError> {
        let body = self.instant_answer(promql, time_unix_s).await?;
        decode_vector(&body).map_err(|source| PrometheusError::Decode {
            endpoint: self.name.clone(),
            source,
        })
    }

    /// The body of the answer to `promql` at `time_unix_s`, within the timeout, for a caller
    /// that decodes it itself.
    pub async fn instant_answer(
        &self,
        promql: &str,
        time_unix_s: f64,
    ) -> Result<Vec<u8>, PrometheusError> {
        let query = encode_query(promql, time_unix_s);
        match tokio::time::timeout(self.timeout, self.fetch(&query)).await {
            Ok(body) => body,
            Err(_) => Err(PrometheusError::Timeout {
                endpoint: self.name.clone(),
                after: self.timeout,
            }),
        }
    }

    /// The body of a 200 answer.
    async fn fetch(&self, query: &str) -> Result<Vec<u8>, PrometheusError> {
        match &self.transport {
            Transport::Http { client, base } => {
                let mut url = base.clone();
                let path = format!("{}/api/v1/query", base.path().trim_end_matches('/'));
                url.set_path(&path);
                url.set_query(Some(query));
                let response = client
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| self.send_error(&e))?;
                let status = response.status().as_u16();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| PrometheusError::Truncated {
                        endpoint: self.name.clone(),
                        reason: root_cause(&e),
                    })?;
                if status == 200 {
                    Ok(body.to_vec())
                } else {
                    Err(self.status_error(status, &body))
                }
            }
            Transport::Kube {
                client,
                path,
                https,
            } => {
                let mut request = hyper::http::Request::get(format!("{path}?{query}"));
                for (name, value) in &self.headers {
                    request = request.header(name, value);
                }
                let request = request
                    .body(Vec::new())
                    .map_err(|e| PrometheusError::ClientSetup(e.to_string()))?;
                match client.request_text(request).await {
                    Ok(text) => Ok(text.into_bytes()),
                    // What a Go server with TLS answers to plain HTTP, passed on by the proxy.
                    Err(kube::Error::Api(answer))
                        if !https && answer.message.contains("HTTP request to an HTTPS server") =>
                    {
                        Err(PrometheusError::KubeProxy {
                            endpoint: self.name.clone(),
                            reason: "the Service serves HTTPS; put https: before its name, as in kube:NAMESPACE/https:SERVICE:PORT".into(),
                        })
                    }
                    Err(kube::Error::Api(answer)) => {
                        Err(self.status_error(answer.code, answer.message.as_bytes()))
                    }
                    Err(other) => Err(PrometheusError::KubeProxy {
                        endpoint: self.name.clone(),
                        reason: root_cause(&other),
                    }),
                }
            }
        }
    }

    fn send_error(&self, error: &reqwest::Error) -> PrometheusError {
        let endpoint = self.name.clone();
        if error.is_timeout() {
            PrometheusError::Timeout {
                endpoint,
                after: self.timeout,
            }
        } else if is_connection_refused(error) {
            PrometheusError::Refused { endpoint }
        } else {
            PrometheusError::Unreachable {
                endpoint,
                reason: root_cause(error),
            }
        }
    }

    /// Prometheus answers 400 and 422 with its own error envelope ("parse error at char 5"):
    /// that says more than the status. Anything else (a proxy's page) is shown as it came.
    fn status_error(&self, status: u16, body: &[u8]) -> PrometheusError {
        match decode_vector(body) {
            Err(source @ DecodeError::Refused { .. }) => PrometheusError::Decode {
                endpoint: self.name.clone(),
                source,
            },
            _ => PrometheusError::Status {
                endpoint: self.name.clone(),
                status,
                excerpt: excerpt(body),
            },
        }
    }
}

/// `query=...&time=...`, the same for both transports.
fn encode_query(promql: &str, time_unix_s: f64) -> String {
    format!(
        "query={}&time={}",
        percent_encode(promql),
        percent_encode(&format!("{time_unix_s:.3}"))
    )
}

/// Escapes everything but RFC 3986's unreserved characters, which is safe in any query.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn extra_headers(pairs: &[(String, String)]) -> Result<HeaderMap, PrometheusError> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let bad = |reason: String| PrometheusError::BadHeader {
            name: name.clone(),
            reason,
        };
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad("not a valid header name".into()))?;
        let header_value = HeaderValue::from_str(value)
            .map_err(|_| bad("the value has characters a header cannot carry".into()))?;
        headers.append(header_name, header_value);
    }
    Ok(headers)
}

fn http_client(
    settings: &PrometheusSettings,
    mut headers: HeaderMap,
) -> Result<reqwest::Client, PrometheusError> {
    install_crypto_provider();
    if let Some(value) = authorization(&settings.auth)? {
        headers.insert(AUTHORIZATION, value);
    }
    let mut builder = reqwest::Client::builder().default_headers(headers);
    if let Some(path) = &settings.ca_file {
        let ca_error = |reason: String| PrometheusError::CaFile {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| ca_error(format!("not a PEM certificate bundle ({e})")))?;
        if certificates.is_empty() {
            return Err(ca_error("no certificate in the file".into()));
        }
        builder = builder.tls_certs_merge(certificates);
    }
    if settings.insecure_skip_tls_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| PrometheusError::ClientSetup(root_cause(&e)))
}

fn authorization(auth: &Auth) -> Result<Option<HeaderValue>, PrometheusError> {
    let text = match auth {
        Auth::None => return Ok(None),
        Auth::Bearer(token) => format!("Bearer {}", token.trim()),
        Auth::BasicAuth { user, password } => {
            format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
        }
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| PrometheusError::BadHeader {
        name: "Authorization".into(),
        reason: "the credentials have characters a header cannot carry".into(),
    })?;
    // Keeps the value out of any debug output of the request.
    value.set_sensitive(true);
    Ok(Some(value))
}

/// Standard base64 with padding, for HTTP basic auth (RFC 7617).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// reqwest is built without a default TLS crypto provider (so that it shares ring with
/// kube instead of pulling in aws-lc); the process needs exactly one installed.
fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err means another part of the process installed one first: that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_from_what_a_user_types() {
        let direct: Endpoint = "https://mimir.example/prometheus".parse().unwrap();
        assert_eq!(direct.to_string(), "https://mimir.example/prometheus");
        let proxy: Endpoint = "kube:istio-system/prometheus:9090".parse().unwrap();
        assert_eq!(
            proxy,
            Endpoint::KubeProxy {
                namespace: "istio-system".into(),
                service: "prometheus".into(),
                port: "9090".into(),
                https: false
            }
        );
        assert_eq!(proxy.to_string(), "kube:istio-system/prometheus:9090");
        let secure: Endpoint = "kube:istio-system/https:prometheus:https-web"
            .parse()
            .unwrap();
        assert_eq!(
            secure,
            Endpoint::KubeProxy {
                namespace: "istio-system".into(),
                service: "prometheus".into(),
                port: "https-web".into(),
                https: true
            }
        );
        assert_eq!(
            secure.to_string(),
            "kube:istio-system/https:prometheus:https-web"
        );
        let plain: Endpoint = "kube:monitoring/http:prometheus:9090".parse().unwrap();
        assert_eq!(plain.to_string(), "kube:monitoring/prometheus:9090");
    }

    #[test]
    fn addresses_that_are_not_an_endpoint_are_refused() {
        for bad in [
            "prometheus:9090",
            "ftp://host",
            "http://host/?q=1",
            "kube:istio-system/prometheus",
            "kube:istio-system/../x:9090",
            "kube:/prometheus:9090",
            "kube:istio-system/ftp:prometheus:9090",
            "kube:istio-system/https:prometheus",
        ] {
            let error = bad.parse::<Endpoint>().unwrap_err();
            assert!(matches!(error, PrometheusError::BadEndpoint(_)), "{bad}");
        }
    }

    #[test]
    fn messages_name_an_endpoint_without_its_password() {
        let endpoint: Endpoint = "https://me:secret@prom.example:9090/".parse().unwrap();
        assert_eq!(endpoint.to_string(), "https://prom.example:9090");
    }

    #[test]
    fn basic_auth_is_encoded_as_rfc_7617_says() {
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn the_query_time_is_always_sent() {
        let query = encode_query("up > 0", 1_795_557_600.0);
        assert_eq!(query, "query=up%20%3E%200&time=1795557600.000");
    }

    #[test]
    fn settings_that_cannot_work_are_refused_before_any_query() {
        let direct = PrometheusSettings::new("https://prom.example".parse().unwrap());
        let proxy = PrometheusSettings::new("kube:istio-system/prometheus:9090".parse().unwrap());
        let cases: [(&str, PrometheusSettings, &str); 5] = [
            (
                "a missing CA file",
                PrometheusSettings {
                    ca_file: Some("/nonexistent/ca.pem".into()),
                    ..direct.clone()
                },
                "reading the CA file /nonexistent/ca.pem",
            ),
            (
                "a CA file without a certificate",
                PrometheusSettings {
                    ca_file: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into()),
                    ..direct.clone()
                },
                "no certificate in the file",
            ),
            (
                "a header name with a space",
                PrometheusSettings {
                    headers: vec![("X Scope".into(), "a".into())],
                    ..direct.clone()
                },
                "the header \"X Scope\" cannot be sent",
            ),
            (
                "credentials through the service proxy",
                PrometheusSettings {
                    auth: Auth::Bearer("t".into()),
                    ..proxy.clone()
                },
                "cannot be sent through the Kubernetes API proxy",
            ),
            (
                "the service proxy without a Kubernetes client",
                proxy,
                "no Kubernetes client was given",
            ),
        ];
        for (name, settings, expected) in cases {
            let error = PrometheusClient::new(&settings, None).unwrap_err();
            assert!(error.to_string().contains(expected), "{name}: {error}");
        }
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let auth = Auth::BasicAuth {
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{auth:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
    }
}
