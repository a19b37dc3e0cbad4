//! Terminal set-up and restore, the event loop and the effect runner: the only module that wires the others.

mod analyze;
mod input;
mod live;
mod logs;
mod operations;
mod rule;
mod terminal;
mod writer;

use live::LiveSources;
use logs::LogLink;

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use tokio::sync::mpsc;

use crate::app::{update, Effect, Msg, State};
use crate::cli::{
    Cli, ColorArg, Command, DemoArgs, GraphArgs, GraphFormat, GraphTypeArg, LiveArgs, DEMO_REFRESH,
};
use crate::config::{self, ColorChoice, ConfigOptions, LoadedConfig};
use crate::export::{self, ExportMeta};
use crate::mesh::{GraphOptions, GraphType, Inventory, MeshGraph};
use crate::source::demo::{DemoMesh, DemoOptions, DemoSource, DEMO_START_UNIX_S};
use crate::source::logs::LogFollower;
use crate::source::operations::OperationsReader;
use crate::source::prometheus::fetch_snapshot;
use crate::source::prometheus::PrometheusOperations;
use crate::source::write::RuleWriter;
use crate::source::{MeshSource, SourceCommand, SourceDescription, SourceEvent, SourceHealth};
use crate::ui::{self, Chrome};

pub use input::translate_key;
use operations::OperationsLink;
pub use terminal::TerminalGuard;
pub use writer::write_access;
use writer::{WriterLink, WriterNews};

/// An outcome that ends the program with a given exit status (`meshtui analyze` uses
/// istioctl's: 79 when analyzers found issues, 65 for input it could not parse).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExitStatus {
    pub code: u8,
    pub message: String,
}

/// How often the status bar's age is re-checked (it redraws only when the text changes).
const CLOCK_TICK: Duration = Duration::from_secs(1);

pub fn run(cli: Cli) -> Result<()> {
    let started = Instant::now();
    // Config errors are reported before the terminal is touched.
    let config = load_config(&cli)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_command(cli, config, started))
}

async fn run_command(cli: Cli, config: LoadedConfig, started: Instant) -> Result<()> {
    let graph_type = graph_type(cli.live.graph_type);
    match cli.command {
        None => {
            let live = LiveSources::start(&cli.live, None).await?;
            let session = Session {
                clock: Clock::Wall,
                started,
                exit_after_first_frame: false,
                graph_type,
                idle_nodes: cli.live.idle_nodes,
                namespaces: cli.live.namespaces.clone(),
                readonly: cli.live.readonly,
                operation_label: cli.live.operation_label.clone(),
            };
            let parts = SessionParts {
                source: Box::new(live.source()?),
                writer: live.writer(),
                logs: live.log_follower(),
                operations: Some(Box::new(PrometheusOperations::new(live.client.clone()))),
            };
            event_loop(parts, config, session).await
        }
        Some(Command::Graph(args)) => print_graph(&args, &cli.live, &config, graph_type).await,
        Some(Command::Analyze(args)) => analyze::run(&args, &cli.live).await,
        Some(Command::Rule(args)) => rule::run(&args, &cli.live).await,
        Some(Command::Demo(args)) => {
            let (source, clock) = demo_source(&args, &cli.live)?;
            let session = Session {
                clock,
                started,
                exit_after_first_frame: args.exit_after_first_frame,
                graph_type,
                idle_nodes: cli.live.idle_nodes,
                namespaces: cli.live.namespaces.clone(),
                readonly: cli.live.readonly,
                operation_label: cli.live.operation_label.clone(),
            };
            let parts = SessionParts {
                writer: Some(source.writer(cli.live.readonly)),
                logs: Some(source.log_follower()),
                operations: Some(source.operations_reader()),
                source: Box::new(source),
            };
            event_loop(parts, config, session).await
        }
    }
}

pub fn load_config(cli: &Cli) -> Result<LoadedConfig> {
    let display = &cli.display;
    let options = ConfigOptions {
        config_dir: display.config_dir.clone(),
        theme: display.theme.clone(),
        keymap: display.keymap.clone(),
        color: display.color.map(|c| match c {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Truecolor => ColorChoice::TrueColor,
            ColorArg::Ansi256 => ColorChoice::Ansi256,
            ColorArg::Ansi16 => ColorChoice::Ansi16,
            ColorArg::Never => ColorChoice::Never,
        }),
        ascii: display.ascii.then_some(true),
    };
    config::load(&options, &|name| std::env::var(name).ok()).context("loading the configuration")
}

/// Where "now" comes from: the wall clock, or a fixed instant for reproducible runs.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    Wall,
    Frozen(f64),
}

impl Clock {
    pub fn now_unix_s(self) -> f64 {
        match self {
            Clock::Wall => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            Clock::Frozen(at) => at,
        }
    }
}

/// `meshtui graph`: one snapshot, one graph, printed as JSON or DOT.
async fn print_graph(
    args: &GraphArgs,
    live: &LiveArgs,
    config: &LoadedConfig,
    graph_type: GraphType,
) -> Result<()> {
    let snapshot = if args.demo {
        if args.time.is_some() {
            bail!("--time replays a live mesh's data; the demo has no history");
        }
        DemoMesh::new(DemoOptions {
            seed: args.seed,
            window: live.window,
            ..DemoOptions::default()
        })
        .snapshot()
    } else {
        let sources = LiveSources::start(live, args.time).await?;
        let settled = sources.settled_inventory(live.timeout).await?;
        for problem in &settled.problems {
            eprintln!("meshtui: {problem}; the graph lacks that cluster's inventory");
        }
        fetch_snapshot(&sources.client, &sources.refresh, settled.inventory)
            .await
            .context("reading Prometheus")?
    };
    let options = GraphOptions {
        graph_type,
        thresholds: config.health,
        namespaces: live.namespaces.clone(),
        idle_nodes: live.idle_nodes,
        ..GraphOptions::default()
    };
    let graph = crate::mesh::build_graph(&snapshot.samples, &snapshot.inventory, &options);
    if let Some(hint) = unmatched_clusters(&snapshot.inventory, &graph) {
        eprintln!("meshtui: {hint}");
    }
    let text = match args.output {
        GraphFormat::Json => {
            let meta = ExportMeta {
                graph_type,
                time_unix_s: snapshot.taken_at_unix_s,
                window: snapshot.window,
                namespaces: live.namespaces.clone(),
            };
            let json = export::to_json(&graph, &meta);
            serde_json::to_string_pretty(&json).context("writing the graph as JSON")?
        }
        GraphFormat::Dot => export::to_dot(&graph),
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}").context("writing to standard output")?;
    Ok(())
}

/// When the contexts' cluster names and the metrics' `*_cluster` labels miss each other,
/// the inventory joins nothing there: say how to name them alike.
fn unmatched_clusters(inventory: &Inventory, graph: &MeshGraph) -> Option<String> {
    let listed = inventory.clusters();
    let seen = graph.clusters();
    // One cluster's inventory answers for any name.
    if listed.len() < 2 {
        return None;
    }
    let unseen: Vec<&str> = listed.difference(&seen).copied().collect();
    let unlisted: Vec<&str> = seen.difference(&listed).copied().collect();
    if unseen.is_empty() || unlisted.is_empty() {
        return None;
    }
    Some(format!(
        "the metrics name clusters {} that no context is named as, and no metrics name {}: \
         write --context CONTEXT=CLUSTER with the cluster as Istio's metrics name it",
        unlisted.join(", "),
        unseen.join(", ")
    ))
}

fn graph_type(arg: GraphTypeArg) -> GraphType {
    match arg {
        GraphTypeArg::VersionedApp => GraphType::VersionedApp,
        GraphTypeArg::App => GraphType::App,
        GraphTypeArg::Workload => GraphType::Workload,
        GraphTypeArg::Service => GraphType::Service,
    }
}

fn demo_source(args: &DemoArgs, live: &LiveArgs) -> Result<(DemoSource, Clock)> {
    let clock = if args.frozen_clock {
        Clock::Frozen(DEMO_START_UNIX_S)
    } else {
        Clock::Wall
    };
    let seed = args.seed.unwrap_or_else(|| Clock::Wall.now_unix_s() as u64);
    let options = DemoOptions {
        seed,
        services: args.services.map(|n| n as usize),
        tick: live.refresh_every.unwrap_or(DEMO_REFRESH),
        window: live.window,
        start_unix_s: clock.now_unix_s(),
        stamp_with_wall_clock: matches!(clock, Clock::Wall),
        serve_metrics: args.serve_metrics,
    };
    // Bound now, so that a port in use is an error before the terminal is touched.
    let source = DemoSource::bind(options).context("serving the demo's /metrics")?;
    Ok((source, clock))
}

/// How one interactive session runs.
#[derive(Debug, Clone)]
struct Session {
    graph_type: GraphType,
    /// Start with the idle nodes shown (`--idle-nodes`).
    idle_nodes: bool,
    /// The namespaces asked for: nodes elsewhere are marked outside.
    namespaces: Vec<String>,
    clock: Clock,
    started: Instant,
    exit_after_first_frame: bool,
    /// `--readonly`: no write reaches the writer, and the forms say why.
    readonly: bool,
    /// `--operation-label`: what the interfaces view reads operations from.
    operation_label: String,
}

/// What a session runs: the data source, and the rule writer, log follower and operations
/// reader, if any.
struct SessionParts {
    source: Box<dyn MeshSource>,
    writer: Option<Box<dyn RuleWriter>>,
    logs: Option<Box<dyn LogFollower>>,
    operations: Option<Box<dyn OperationsReader>>,
}

async fn event_loop(parts: SessionParts, config: LoadedConfig, session: Session) -> Result<()> {
    let SessionParts {
        source,
        writer,
        logs,
        operations,
    } = parts;
    let clock = session.clock;
    let mut state = initial_state(source.describe(), &config, clock.now_unix_s());
    state.graph_options.graph_type = session.graph_type;
    state.graph_options.idle_nodes = session.idle_nodes;
    state.graph_options.namespaces = session.namespaces.clone();
    if !session.operation_label.is_empty() {
        state.operation_label = session.operation_label.clone();
    }
    // Read-only sessions never start the writer, so no write can happen by mistake.
    let writer = if session.readonly { None } else { writer };
    state.rules.writes = write_access(session.readonly, writer.is_some());
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: config.ascii,
    };

    let (source_events, mut from_source) = mpsc::channel(16);
    let (to_source, source_commands) = mpsc::channel(16);
    let mut source_task = tokio::spawn(source.run(source_events, source_commands));
    let mut source_running = true;

    let mut writer = WriterLink::start(writer);
    let mut operations = OperationsLink::start(operations);
    let mut logs = LogLink::new(logs);

    let mut terminal = TerminalGuard::enter().context("setting up the terminal")?;
    let mut from_input = input::spawn_reader();
    let mut signals = terminal::Signals::new().context("installing signal handlers")?;
    let mut clock_tick = tokio::time::interval(CLOCK_TICK);
    clock_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let (width, height) = terminal.size()?;
    update(&mut state, Msg::Resize { width, height });
    terminal.draw(|frame| ui::draw(frame, &state, &chrome))?;

    let mut first_frame_after = None;
    let result = loop {
        let msgs: Vec<Msg> = tokio::select! {
            event = from_input.recv() => match event {
                Some(Ok(event)) => translate_event(&state, &config, event),
                Some(Err(error)) => break Err(error).context("reading the terminal"),
                None => break Ok(()),
            },
            event = from_source.recv(), if source_running => match event {
                Some(event) => latest_wins(event, &mut from_source),
                None => Vec::new(),
            },
            news = writer.next(), if writer.is_running() => match news {
                WriterNews::Event(event) => vec![Msg::Write(event)],
                WriterNews::Stopped(Err(error)) if error.is_panic() => {
                    break Err(anyhow::anyhow!("the rule writer crashed: {error}"))
                }
                WriterNews::Stopped(_) => vec![Msg::Source(SourceEvent::Status(SourceHealth::Failing(
                    "the rule writer stopped: rules can't be written".into(),
                )))],
            },
            (query, result) = operations.next() => vec![Msg::Operations { query, result }],
            news = logs.next(), if logs.is_following() => news
                .into_iter()
                .map(|(id, event)| Msg::Log { id, event })
                .collect(),
            ended = &mut source_task, if source_running => {
                source_running = false;
                match ended {
                    Err(error) if error.is_panic() => break Err(anyhow::anyhow!("the data source crashed: {error}")),
                    _ => vec![Msg::Source(SourceEvent::Status(SourceHealth::Failing(
                        "the data source stopped; the data shown is the last it sent".into(),
                    )))],
                }
            },
            _ = clock_tick.tick() => match clock {
                Clock::Wall => vec![Msg::Tick { now_unix_s: clock.now_unix_s() }],
                Clock::Frozen(_) => Vec::new(),
            },
            _ = signals.next() => break Ok(()),
        };
        let mut redraw = false;
        let mut quit = false;
        for msg in msgs {
            let outcome = update(&mut state, msg);
            redraw |= outcome.redraw;
            for effect in outcome.effects {
                match effect {
                    Effect::Quit => quit = true,
                    Effect::Source(command) => send_command(&to_source, command),
                    Effect::QueryOperations(query) => operations.ask(query),
                    Effect::Write(command) => {
                        // A command the writer can't take is answered as its refusal would be.
                        if let Some(refusal) = writer.send(*command) {
                            redraw |= update(&mut state, Msg::Write(refusal)).redraw;
                        }
                    }
                    Effect::FollowLog { id, pod } => {
                        if let Some(event) = logs.follow(id, pod) {
                            redraw |= update(&mut state, Msg::Log { id, event }).redraw;
                        }
                    }
                    Effect::StopLog => logs.stop(),
                }
            }
        }
        if quit {
            break Ok(());
        }
        if redraw {
            terminal.draw(|frame| ui::draw(frame, &state, &chrome))?;
            if session.exit_after_first_frame && state.data_taken_at.is_some() {
                first_frame_after = Some(session.started.elapsed());
                break Ok(());
            }
        }
    };
    source_task.abort();
    writer.stop();
    operations.stop();
    logs.stop();
    terminal.restore();
    if let Some(elapsed) = first_frame_after {
        eprintln!(
            "first frame with data after {:.2} ms",
            elapsed.as_secs_f64() * 1000.0
        );
    }
    result
}

/// The state a session starts from: the configured health thresholds, the help's length.
pub fn initial_state(source: SourceDescription, config: &LoadedConfig, now_unix_s: f64) -> State {
    let graph_options = GraphOptions {
        thresholds: config.health,
        ..GraphOptions::default()
    };
    let mut state = State::new(source, graph_options, now_unix_s);
    let chrome = Chrome {
        theme: &config.theme,
        keymap: &config.keymap,
        ascii: config.ascii,
    };
    state.help_lines = ui::help_line_count(&chrome);
    state
}

/// The demo's state after its first snapshot at a terminal size, started as a session
/// starts: what the screen tests, the screenshots and the benchmarks begin from.
pub fn first_demo_state(
    options: DemoOptions,
    config: &LoadedConfig,
    width: u16,
    height: u16,
) -> State {
    let mesh = DemoMesh::new(options.clone());
    let snapshot = mesh.snapshot();
    let description = DemoSource::new(options).describe();
    let mut state = initial_state(description, config, snapshot.taken_at_unix_s);
    update(&mut state, Msg::Resize { width, height });
    update(
        &mut state,
        Msg::Source(SourceEvent::Snapshot(Box::new(snapshot))),
    );
    state
}

/// Takes every event already queued behind `first` and keeps only the newest snapshot:
/// a slow frame must not leave the screen several refreshes behind.
fn latest_wins(first: SourceEvent, queue: &mut mpsc::Receiver<SourceEvent>) -> Vec<Msg> {
    let mut events = vec![first];
    while let Ok(event) = queue.try_recv() {
        events.push(event);
    }
    let newest = events
        .iter()
        .rposition(|e| matches!(e, SourceEvent::Snapshot(_)));
    events
        .into_iter()
        .enumerate()
        .filter(|(i, e)| !matches!(e, SourceEvent::Snapshot(_)) || Some(*i) == newest)
        .map(|(_, e)| Msg::Source(e))
        .collect()
}

fn send_command(to_source: &mpsc::Sender<SourceCommand>, command: SourceCommand) {
    // A full queue means the source is busy with earlier requests; dropping a refresh is fine.
    let _ = to_source.try_send(command);
}

fn translate_event(
    state: &State,
    config: &LoadedConfig,
    event: crossterm::event::Event,
) -> Vec<Msg> {
    use crossterm::event::{Event, KeyEventKind};
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            translate_key(state, &config.keymap, &key)
                .into_iter()
                .collect()
        }
        Event::Resize(width, height) => vec![Msg::Resize { width, height }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::demo::DemoMesh;

    fn snapshot_at(t: f64) -> SourceEvent {
        let mut snapshot = DemoMesh::new(DemoOptions::default()).snapshot();
        snapshot.taken_at_unix_s = t;
        SourceEvent::Snapshot(Box::new(snapshot))
    }

    #[test]
    fn only_the_newest_queued_snapshot_is_kept_and_statuses_keep_their_order() {
        let (tx, mut rx) = mpsc::channel(8);
        let failing = SourceEvent::Status(SourceHealth::Failing("slow".into()));
        tx.try_send(snapshot_at(2.0)).unwrap();
        tx.try_send(failing.clone()).unwrap();
        tx.try_send(snapshot_at(3.0)).unwrap();
        tx.try_send(SourceEvent::Status(SourceHealth::Ok)).unwrap();
        let msgs = latest_wins(snapshot_at(1.0), &mut rx);
        let times: Vec<Option<f64>> = msgs
            .iter()
            .map(|m| match m {
                Msg::Source(SourceEvent::Snapshot(s)) => Some(s.taken_at_unix_s),
                _ => None,
            })
            .collect();
        assert_eq!(times, vec![None, Some(3.0), None]);
        assert_eq!(msgs[0], Msg::Source(failing));
    }
}
