//! A real Prometheus (Debian's `prometheus` package) on 127.0.0.1, serving the Bookinfo
//! fixture backfilled with `promtool`. Missing binaries fail the test with what to install:
//! a test that cannot run must not pass.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The instant the fixture's data ends; queries evaluate here.
pub const FIXTURE_END_UNIX_S: f64 = 1_795_557_600.0;

const FIXTURE_GZ: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/prometheus/bookinfo-istio.om.gz"
);

/// How long Prometheus may take to open the backfilled blocks.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// A running Prometheus; killed, and its data dir removed, when dropped.
pub struct RealPrometheus {
    child: Child,
    data_dir: PathBuf,
    pub address: SocketAddr,
}

impl RealPrometheus {
    /// Starts Prometheus on a free loopback port over a copy of the backfilled fixture and
    /// waits until it answers `/-/ready`.
    pub fn start_with_bookinfo() -> RealPrometheus {
        require_binary("prometheus");
        let blocks = backfilled_blocks();
        let data_dir = unique_dir("prometheus-data");
        copy_dir(blocks, &data_dir.join("tsdb"));
        // No scrape jobs: nothing is contacted, the backfilled blocks are all it serves.
        Self::launch(
            data_dir,
            "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
        )
    }

    /// Starts Prometheus over `openmetrics` (a whole exposition, `# EOF` included)
    /// backfilled with `promtool`, and waits until it answers `/-/ready`.
    pub fn start_with_openmetrics(openmetrics: &str) -> RealPrometheus {
        require_binary("prometheus");
        require_binary("promtool");
        let data_dir = unique_dir("prometheus-openmetrics");
        let input = data_dir.join("input.om");
        std::fs::write(&input, openmetrics).expect("write the OpenMetrics file");
        let backfill = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(data_dir.join("tsdb"))
            .output()
            .expect("run promtool");
        assert!(
            backfill.status.success(),
            "promtool tsdb create-blocks-from openmetrics failed:\n{}",
            String::from_utf8_lossy(&backfill.stderr)
        );
        Self::launch(
            data_dir,
            "global:\n  scrape_interval: 15s\nscrape_configs: []\n",
        )
    }

    /// Starts an empty Prometheus that scrapes `target`'s `/metrics` every second (a
    /// loopback address), and waits until it answers `/-/ready`.
    pub fn start_scraping(target: SocketAddr) -> RealPrometheus {
        require_binary("prometheus");
        assert!(
            target.ip().is_loopback(),
            "tests only ever scrape loopback addresses"
        );
        let data_dir = unique_dir("prometheus-scrape");
        std::fs::create_dir_all(data_dir.join("tsdb")).expect("create the data dir");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
             - job_name: meshtui-demo\n    static_configs:\n      - targets: ['{target}']\n"
        );
        Self::launch(data_dir, &config)
    }

    fn launch(data_dir: PathBuf, config_text: &str) -> RealPrometheus {
        let config = data_dir.join("prometheus.yml");
        std::fs::write(&config, config_text).expect("write the Prometheus config");
        let address = free_loopback_address();
        let log = std::fs::File::create(data_dir.join("prometheus.log")).expect("create log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                data_dir.join("tsdb").display()
            ))
            // The fixture's timestamps are fixed; retention counts from the newest block.
            .arg("--storage.tsdb.retention.time=100y")
            .arg(format!("--web.listen-address={address}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let mut prometheus = RealPrometheus {
            child,
            data_dir,
            address,
        };
        prometheus.wait_until_ready();
        prometheus
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn wait_until_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "prometheus exited ({status}) before it was ready:\n{}",
                    self.log()
                );
            }
            if http_get_status(self.address, "/-/ready") == Some(200) {
                return;
            }
            assert!(
                started.elapsed() < READY_LIMIT,
                "prometheus was not ready within {READY_LIMIT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for RealPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Fails the test, saying what to install, when a binary is not on the PATH.
fn require_binary(name: &str) {
    let found = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "`{name}` is not installed; this test needs a real Prometheus: \
         apt-get install -y prometheus (scripts/test installs it)"
    );
}

/// The fixture backfilled once per fixture version, kept under Cargo's target tmp dir so
/// later runs skip the 50 MB backfill.
fn backfilled_blocks() -> &'static Path {
    static BLOCKS: OnceLock<PathBuf> = OnceLock::new();
    BLOCKS.get_or_init(|| {
        require_binary("promtool");
        let fixture = std::fs::read(FIXTURE_GZ).expect("read the Prometheus fixture");
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("prometheus-bookinfo-{:016x}", fnv1a(&fixture)));
        let done = cache.join("complete");
        if done.exists() {
            return cache.join("blocks");
        }
        let _ = std::fs::remove_dir_all(&cache);
        std::fs::create_dir_all(&cache).expect("create the backfill dir");
        // promtool mmaps its input: it needs a real file, not a pipe.
        let openmetrics = cache.join("bookinfo-istio.om");
        let out = std::fs::File::create(&openmetrics).expect("create the OpenMetrics file");
        let gunzip = Command::new("gzip")
            .arg("-dc")
            .arg(FIXTURE_GZ)
            .stdout(out)
            .status()
            .expect("run gzip");
        assert!(gunzip.success(), "gzip -dc {FIXTURE_GZ} failed");
        let backfill = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&openmetrics)
            .arg(cache.join("blocks"))
            .output()
            .expect("run promtool");
        assert!(
            backfill.status.success(),
            "promtool tsdb create-blocks-from openmetrics failed:\n{}",
            String::from_utf8_lossy(&backfill.stderr)
        );
        let _ = std::fs::remove_file(&openmetrics);
        std::fs::write(&done, "").expect("mark the backfill complete");
        cache.join("blocks")
    })
}

/// A 64-bit FNV-1a hash: enough to tell fixture versions apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// A fresh directory under Cargo's target tmp dir.
pub fn unique_dir(prefix: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary dir");
    dir
}

/// A loopback port nobody listens on right now.
pub fn free_loopback_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address")
}

/// The status of a plain GET, or `None` while nothing answers.
fn http_get_status(address: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}
