//! A fake Prometheus on 127.0.0.1 that answers well or fails on demand (500, too slow,
//! malformed JSON, a body cut short), and records what it was asked. A hand-written
//! HTTP/1.1 server on tokio, so that each fault is exactly the bytes on the wire.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The rate the fake's one requests series carries.
pub const FAKE_RATE_PER_S: f64 = 7.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A well-formed answer: one requests series, nothing for the other metrics.
    Answer,
    /// 500 with a proxy-like error page.
    ServerError,
    /// Holds every request until the behaviour changes.
    Slow,
    /// 200 with a body that is not JSON.
    MalformedJson,
    /// 200 whose body stops halfway through its Content-Length.
    Truncated,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Path and query, percent-encoded as sent.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    behaviour: Option<Behaviour>,
    /// Queries whose target contains this text get a 500 whatever the behaviour.
    failing_queries: Option<String>,
    requests: Vec<Recorded>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A running fake; it stops with the runtime it was started on.
#[derive(Clone)]
pub struct FakePrometheus {
    shared: Arc<Mutex<Shared>>,
    pub address: SocketAddr,
    /// The path the fake serves `/api/v1/query` under; anything else is a 404.
    query_path: String,
}

impl FakePrometheus {
    /// Serves `query_path` on a free loopback port.
    pub async fn start(query_path: &str, behaviour: Behaviour) -> FakePrometheus {
        Self::start_on("127.0.0.1:0".parse().unwrap(), query_path, behaviour).await
    }

    /// Serves on a given loopback address (e.g. one a source already tried in vain).
    pub async fn start_on(
        address: SocketAddr,
        query_path: &str,
        behaviour: Behaviour,
    ) -> FakePrometheus {
        assert!(
            address.ip().is_loopback(),
            "the fake only listens on loopback"
        );
        let listener = TcpListener::bind(address).await.expect("bind the fake");
        let fake = FakePrometheus {
            shared: Arc::new(Mutex::new(Shared {
                behaviour: Some(behaviour),
                ..Shared::default()
            })),
            address: listener.local_addr().unwrap(),
            query_path: query_path.to_owned(),
        };
        let server = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(stream));
            }
        });
        fake
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn set(&self, behaviour: Behaviour) {
        self.shared.lock().unwrap().behaviour = Some(behaviour);
    }

    /// Answers 500 to the queries whose percent-encoded target contains `text`.
    pub fn fail_queries_containing(&self, text: Option<&str>) {
        self.shared.lock().unwrap().failing_queries = text.map(str::to_owned);
    }

    fn behaviour(&self) -> Behaviour {
        self.shared
            .lock()
            .unwrap()
            .behaviour
            .unwrap_or(Behaviour::Answer)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().unwrap().requests.clone()
    }

    /// The most requests the fake held open at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.lock().unwrap().max_in_flight
    }

    /// Requests being held or answered right now.
    pub fn in_flight(&self) -> usize {
        self.shared.lock().unwrap().in_flight
    }

    async fn serve(self, mut stream: TcpStream) {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        {
            let mut shared = self.shared.lock().unwrap();
            shared.requests.push(request.clone());
            shared.in_flight += 1;
            shared.max_in_flight = shared.max_in_flight.max(shared.in_flight);
        }
        let mut behaviour = self.behaviour();
        let mut probe = [0u8; 1];
        while behaviour == Behaviour::Slow {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(20)) => {}
                // The client gave up (timeout, cancelled refresh): it is no longer in flight.
                read = stream.read(&mut probe) => {
                    if matches!(read, Ok(0) | Err(_)) {
                        self.shared.lock().unwrap().in_flight -= 1;
                        return;
                    }
                }
            }
            behaviour = self.behaviour();
        }
        let failing = self.shared.lock().unwrap().failing_queries.clone();
        if failing.is_some_and(|text| request.target.contains(&text)) {
            behaviour = Behaviour::ServerError;
        }
        let path = request.target.split('?').next().unwrap_or_default();
        let answer = if path != self.query_path {
            response(404, "text/plain", b"404 page not found\n", None)
        } else {
            match behaviour {
                Behaviour::Answer | Behaviour::Slow => {
                    let body = answer_for(&request.target);
                    response(200, "application/json", body.as_bytes(), None)
                }
                Behaviour::ServerError => response(
                    500,
                    "text/html",
                    b"<html><body><h1>500 Internal Server Error</h1>\nupstream \x1b[31mexploded</body></html>",
                    None,
                ),
                Behaviour::MalformedJson => response(
                    200,
                    "application/json",
                    br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]],}"#,
                    None,
                ),
                Behaviour::Truncated => {
                    let body = answer_for(&request.target);
                    let half = &body.as_bytes()[..body.len() / 2];
                    response(200, "application/json", half, Some(body.len()))
                }
            }
        };
        let _ = stream.write_all(&answer).await;
        let _ = stream.shutdown().await;
        self.shared.lock().unwrap().in_flight -= 1;
    }
}

/// The request head, up to the blank line (the client only sends GETs).
async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let target = lines.next()?.split_whitespace().nth(1)?.to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Recorded { target, headers })
}

/// An HTTP/1.1 response; `claimed_length` overrides Content-Length to cut a body short.
fn response(
    status: u16,
    content_type: &str,
    body: &[u8],
    claimed_length: Option<usize>,
) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let mut bytes = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        claimed_length.unwrap_or(body.len())
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One series for the requests query, none for the others.
fn answer_for(target: &str) -> String {
    let result = if target.contains("istio_requests_total") {
        format!(
            r#"[{{"metric":{{"reporter":"destination","source_workload":"productpage-v1","source_workload_namespace":"bookinfo","destination_workload":"reviews-v1","destination_workload_namespace":"bookinfo","destination_service":"reviews.bookinfo.svc.cluster.local","request_protocol":"http","response_code":"200","response_flags":"-","connection_security_policy":"mutual_tls"}},"value":[1795557600,"{FAKE_RATE_PER_S}"]}}]"#
        )
    } else {
        "[]".to_owned()
    };
    format!(r#"{{"status":"success","data":{{"resultType":"vector","result":{result}}}}}"#)
}
