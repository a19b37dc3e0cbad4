//! A TLS front for a plain-HTTP test server, as a Service that serves HTTPS: it takes
//! TLS connections on a loopback port, passes each request to the backend and the answer
//! back. Its certificate is self-signed, made with the `openssl` tool for each run.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::support::prometheus::unique_dir;

pub struct TlsFront {
    pub address: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl TlsFront {
    /// Serves TLS on a free loopback port in front of `backend`.
    pub fn start(backend: SocketAddr) -> TlsFront {
        assert!(
            backend.ip().is_loopback(),
            "the front only talks to loopback"
        );
        let config = Arc::new(server_config(&unique_dir("tls-front")));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the TLS front");
        let address = listener.local_addr().expect("the TLS front's address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let config = Arc::clone(&config);
                thread::spawn(move || {
                    // A broken connection only ends that connection.
                    let _ = relay(stream, config, backend);
                });
            }
        });
        TlsFront { address, stop }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
    }
}

/// One request per connection, as the API server's proxy sends them.
fn relay(
    mut stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    backend: SocketAddr,
) -> io::Result<()> {
    // A TLS connection starts with a handshake record (type 22); to anything else a Go
    // server such as Prometheus answers this, and closes.
    let mut first = [0u8; 1];
    if stream.peek(&mut first)? == 1 && first[0] != 22 {
        // The request is read first: closing with it unread would reset the connection
        // before the client reads the answer.
        read_head(&mut stream)?;
        stream.write_all(
            b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
        )?;
        return stream.shutdown(std::net::Shutdown::Write);
    }
    let connection = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let request = read_head(&mut tls)?;
    if request.is_empty() {
        return Ok(());
    }
    let mut upstream = TcpStream::connect(backend)?;
    upstream.write_all(&request)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    tls.write_all(&answer)?;
    tls.conn.send_close_notify();
    tls.flush()
}

/// A request up to the blank line after its headers (the proxy only sends GETs); empty
/// when the client went away first.
fn read_head(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Ok(Vec::new());
        }
        request.extend_from_slice(&buffer[..read]);
    }
    Ok(request)
}

fn server_config(dir: &Path) -> rustls::ServerConfig {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=prometheus.test"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    assert!(
        made.as_ref().is_ok_and(|o| o.status.success()),
        "the openssl tool is needed to make a test certificate (scripts/test installs it): {made:?}"
    );
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .expect("read the test certificate")
        .collect::<Result<_, _>>()
        .expect("parse the test certificate");
    let key = PrivateKeyDer::from_pem_file(&key).expect("read the test key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a server config with the test certificate")
}
