//! Prints the figures issue 2 asks for: graph build, layout, frame render, bytes of a
//! number-only refresh, start-up to the first frame, and the access-log view (issue 5).
//! Run with `cargo bench`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{self, Write};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meshtui::app::topology::{TopologyView, VisibleFilter};
use meshtui::app::{update, Msg, State};
use meshtui::config::{self, ColorChoice, ConfigOptions, LoadedConfig};
use meshtui::mesh::{build_graph, GraphOptions, MeshGraph};
use meshtui::source::demo::{DemoMesh, DemoOptions};
use meshtui::source::SourceEvent;
use meshtui::ui::{self, Chrome};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::{Terminal, TerminalOptions, Viewport};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut work: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(work());
                start.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn synthetic(services: usize) -> DemoMesh {
    DemoMesh::new(DemoOptions {
        seed: 7,
        services: Some(services),
        ..DemoOptions::default()
    })
}

fn config() -> LoadedConfig {
    let options = ConfigOptions {
        config_dir: Some(std::env::temp_dir().join("meshtui-bench-no-user-config")),
        theme: Some("dark".into()),
        keymap: None,
        color: Some(ColorChoice::TrueColor),
        ascii: Some(false),
    };
    config::load(&options, &|_| None).unwrap()
}

/// A writer that only counts, standing in for the SSH link.
#[derive(Clone, Default)]
struct CountingWriter(Arc<AtomicUsize>);

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn graph_build() {
    println!("graph build (versioned app graph, from one snapshot's samples):");
    for (label, services) in [("1k", 600), ("10k", 6000)] {
        let mesh = synthetic(services);
        let snapshot = mesh.snapshot();
        let workloads = snapshot.inventory.workloads.len();
        let runs = if services > 1000 { 3 } else { 7 };
        let mut graph = MeshGraph::default();
        let elapsed = time(runs, || {
            graph = build_graph(
                &snapshot.samples,
                &snapshot.inventory,
                &GraphOptions::default(),
            );
        });
        println!(
            "  {label:>3} workloads ({workloads} workloads, {} samples -> {} nodes, {} edges): {}",
            snapshot.samples.len(),
            graph.node_count(),
            graph.edge_count(),
            ms(elapsed)
        );
    }
}

fn layout() {
    println!("layout (layering, ordering, placement, routing):");
    for (target, services) in [(200, 120), (2000, 1250)] {
        let mesh = synthetic(services);
        let snapshot = mesh.snapshot();
        let graph = build_graph(
            &snapshot.samples,
            &snapshot.inventory,
            &GraphOptions::default(),
        );
        let filter = VisibleFilter::default();
        let mut view = TopologyView::default();
        let elapsed = time(5, || view = TopologyView::build(&graph, &filter, None));
        println!(
            "  ~{target} nodes ({} nodes, {} edges, canvas {}x{}): {}",
            view.nodes.len(),
            view.edges.len(),
            view.layout.width,
            view.layout.height,
            ms(elapsed)
        );
    }
}

fn demo_state(options: DemoOptions, width: u16, height: u16) -> State {
    meshtui::runtime::first_demo_state(options, &config(), width, height)
}

fn frame_render(config: &LoadedConfig) {
    println!("frame render at 250x80 (ui::draw into a TestBackend):");
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: false,
    };
    for (label, options) in [
        (
            "demo mesh",
            DemoOptions {
                seed: 1,
                ..DemoOptions::default()
            },
        ),
        (
            "1,250-service mesh",
            DemoOptions {
                seed: 7,
                services: Some(1250),
                ..DemoOptions::default()
            },
        ),
    ] {
        let state = demo_state(options, 250, 80);
        let mut terminal = Terminal::new(TestBackend::new(250, 80)).unwrap();
        let elapsed = time(101, || {
            terminal.draw(|f| ui::draw(f, &state, &chrome)).map(|_| ())
        });
        println!("  {label}: {}", ms(elapsed));
    }
}

fn refresh_bytes(config: &LoadedConfig) {
    println!("bytes written for a refresh in which only numbers change (20 refreshes):");
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: false,
    };
    for (width, height) in [(80, 24), (120, 40), (250, 80)] {
        let options = DemoOptions {
            seed: 1,
            ..DemoOptions::default()
        };
        let mut mesh = DemoMesh::new(options.clone());
        let mut state = demo_state(options, width, height);
        let counter = CountingWriter::default();
        // A fixed viewport: the backend would otherwise ask the real tty for its size.
        let viewport = Viewport::Fixed(ratatui::layout::Rect::new(0, 0, width, height));
        let mut terminal = Terminal::with_options(
            CrosstermBackend::new(counter.clone()),
            TerminalOptions { viewport },
        )
        .unwrap();
        terminal.draw(|f| ui::draw(f, &state, &chrome)).unwrap();
        let first = counter.0.swap(0, Ordering::Relaxed);
        let mut sizes = Vec::new();
        for _ in 0..20 {
            mesh.step();
            let layout_before = state.view.layout.clone();
            update(
                &mut state,
                Msg::Source(SourceEvent::Snapshot(Box::new(mesh.snapshot()))),
            );
            assert_eq!(
                layout_before, state.view.layout,
                "topology is unchanged: numbers only"
            );
            terminal.draw(|f| ui::draw(f, &state, &chrome)).unwrap();
            sizes.push(counter.0.swap(0, Ordering::Relaxed));
        }
        sizes.sort();
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        println!(
            "  {width}x{height}: first frame {first} B; refresh mean {mean:.0} B, median {} B, max {} B",
            sizes[sizes.len() / 2],
            sizes[sizes.len() - 1]
        );
    }
}

fn first_frame() {
    println!("start to first frame (release binary in a pty made by script(1), 120x40):");
    let binary = env!("CARGO_BIN_EXE_meshtui");
    let command =
        format!("stty cols 120 rows 40; exec {binary} demo --seed 1 --exit-after-first-frame");
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for _ in 0..11 {
        let start = Instant::now();
        let output = Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env("TERM", "xterm-256color")
            .env("LANG", "C.UTF-8")
            .output();
        let elapsed = start.elapsed();
        let output = match output {
            Ok(output) if output.status.success() => output,
            Ok(output) => {
                return println!(
                    "  meshtui failed: {}",
                    String::from_utf8_lossy(&output.stdout)
                )
            }
            Err(e) => return println!("  could not run script(1) from util-linux: {e}"),
        };
        // The binary reports the time from entering `run` to the first frame with data.
        let text = String::from_utf8_lossy(&output.stdout);
        let reported = text
            .split("first frame with data after ")
            .nth(1)
            .and_then(|rest| rest.split(" ms").next())
            .and_then(|ms| ms.trim().parse::<f64>().ok());
        match reported {
            Some(ms) => inside.push(Duration::from_secs_f64(ms / 1000.0)),
            None => return println!("  no timing line in the output: {text}"),
        }
        outside.push(elapsed);
    }
    println!(
        "  median {} from start-up to the first frame with data; {} for the whole process under script(1), whose own pty set-up and teardown take most of it",
        ms(median(inside)),
        ms(median(outside))
    );
}

/// The access-log view: parsing lines, and a full buffer (5,000 lines) taking a batch
/// and being drawn.
fn access_log(config: &LoadedConfig) {
    use meshtui::app::navigate::open_pod_log;
    use meshtui::mesh::access_log::parse_line;
    use meshtui::source::demo::{proxy_log_lines, DemoMesh, DEMO_START_UNIX_S};
    use meshtui::source::logs::{parse_lines, LogEvent, PodRef};

    println!("access log (shop frontend's demo log, 120x40):");
    let mut state = demo_state(DemoOptions::default(), 120, 40);
    // What the proxies saw: every request's path, whether a metric labels it or not.
    let snapshot = DemoMesh::new(DemoOptions::default()).proxy_traffic();
    let pod = PodRef::proxy("Kubernetes", "shop", "frontend-v1-0");
    let mut lines = Vec::new();
    for seed in 0..20 {
        lines.extend(proxy_log_lines(
            &snapshot,
            &pod,
            DEMO_START_UNIX_S,
            10.0,
            seed,
        ));
    }
    let parse = time(21, || {
        lines.iter().map(|l| parse_line(l)).collect::<Vec<_>>()
    });
    println!(
        "  parse: {} for {} lines ({:.0} lines/s)",
        ms(parse),
        lines.len(),
        lines.len() as f64 / parse.as_secs_f64()
    );
    let outcome = open_pod_log(&mut state, &pod);
    let Some(id) = outcome.effects.iter().find_map(|effect| match effect {
        meshtui::app::Effect::FollowLog { id, .. } => Some(*id),
        _ => None,
    }) else {
        return println!("  opening the log did not follow it");
    };
    let parsed = parse_lines(lines.iter().cloned());
    while state.logs.open.as_ref().unwrap().dropped == 0 {
        let event = LogEvent::Lines(parsed.clone());
        update(&mut state, Msg::Log { id, event });
    }
    let batch: Vec<_> = parsed.iter().take(100).cloned().collect();
    let push = time(51, || {
        let event = LogEvent::Lines(batch.clone());
        update(&mut state, Msg::Log { id, event })
    });
    let log = state.logs.open.as_ref().unwrap();
    println!(
        "  a batch of 100 lines into a full buffer ({} lines, {} KB held): {}",
        log.held(),
        log.held_bytes() / 1024,
        ms(push)
    );
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: false,
    };
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let draw = time(51, || {
        terminal
            .draw(|frame| ui::draw(frame, &state, &chrome))
            .unwrap();
    });
    println!("  frame with the full buffer: {}", ms(draw));
}

fn main() {
    // `cargo bench -- <filter>` passes extra arguments; accept and ignore `--bench`.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let config = config();
    if wants("graph") {
        graph_build();
    }
    if wants("layout") {
        layout();
    }
    if wants("frame") {
        frame_render(&config);
    }
    if wants("refresh") {
        refresh_bytes(&config);
    }
    if wants("access_log") {
        access_log(&config);
    }
    if wants("startup") {
        first_frame();
    }
}
