//! Command-line interface (clap derive).

pub mod rule;
pub mod values;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use rule::{RuleArgs, RuleCommon, RuleForm, RuleOutput};
pub use values::ContextArg;
use values::{parse_context, parse_duration, parse_header, parse_instant, parse_label_name};

#[derive(Debug, Parser)]
#[command(
    name = "meshtui",
    version,
    about = "A keyboard-first terminal UI for Istio service meshes",
    long_about = "meshtui draws the live service graph of an Istio mesh in the terminal.\n\
                  With no command it watches the cluster of the current kubeconfig context and\n\
                  the Prometheus given with --prometheus.\n\
                  Try it with no cluster: `meshtui demo`."
)]
pub struct Cli {
    #[command(flatten)]
    pub display: DisplayArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where a live mesh's data comes from, and how it is shown.
#[derive(Debug, Args, Clone, Default)]
pub struct LiveArgs {
    /// Kubeconfig context to read; repeat or separate with commas for several clusters, each
    /// as CONTEXT=CLUSTER when Istio's metrics name its cluster otherwise [default: the
    /// current context]
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        value_parser = parse_context,
        value_name = "CONTEXT[=CLUSTER],..."
    )]
    pub context: Vec<ContextArg>,
    /// Namespaces to show, comma-separated [default: all the mesh's namespaces]
    #[arg(
        short = 'n',
        long = "namespace",
        global = true,
        value_delimiter = ',',
        value_name = "NS,..."
    )]
    pub namespaces: Vec<String>,
    /// Prometheus (or Thanos, Mimir, VictoriaMetrics) URL, with any path prefix; or
    /// kube:NAMESPACE/[https:]SERVICE:PORT to reach it through the Kubernetes API's service proxy
    #[arg(long, global = true, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Bearer token for Prometheus
    #[arg(
        long,
        global = true,
        env = "MESHTUI_PROMETHEUS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub prometheus_token: Option<String>,
    /// File holding the bearer token for Prometheus (read at start-up)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "prometheus_token"
    )]
    pub prometheus_token_file: Option<PathBuf>,
    /// Basic-auth user for Prometheus (the password comes from MESHTUI_PROMETHEUS_PASSWORD)
    #[arg(long, global = true, value_name = "USER")]
    pub prometheus_user: Option<String>,
    /// Basic-auth password for Prometheus
    #[arg(
        long,
        global = true,
        env = "MESHTUI_PROMETHEUS_PASSWORD",
        hide_env_values = true,
        hide = true
    )]
    pub prometheus_password: Option<String>,
    /// Extra header for Prometheus, e.g. 'X-Scope-OrgID: tenant-1' (repeatable)
    #[arg(long, global = true, value_name = "NAME: VALUE", value_parser = parse_header)]
    pub prometheus_header: Vec<(String, String)>,
    /// CA certificate (PEM) to trust for Prometheus
    #[arg(long, global = true, value_name = "FILE")]
    pub prometheus_ca: Option<PathBuf>,
    /// Skip verifying Prometheus's TLS certificate (only when you must)
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Give up on a Prometheus query after this long
    #[arg(long, global = true, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Time window rates are computed over (1m to 1d)
    #[arg(long, global = true, default_value = "1m", value_parser = parse_duration, value_name = "DURATION")]
    pub window: Duration,
    /// Time between refreshes [default: 15s; 2s in the demo]
    #[arg(long = "every", global = true, value_parser = parse_duration, value_name = "DURATION")]
    pub refresh_every: Option<Duration>,
    /// Which graph to draw
    #[arg(long, global = true, value_enum, default_value_t = GraphTypeArg::VersionedApp)]
    pub graph_type: GraphTypeArg,
    /// Also show services and workloads Kubernetes lists that had no traffic (idle nodes)
    #[arg(long, global = true)]
    pub idle_nodes: bool,
    /// Don't read Kubernetes at all: build the graph from metrics alone
    #[arg(long, global = true)]
    pub metrics_only: bool,
    /// Write nothing to the cluster: rule forms still check what is typed, but never apply
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Metric label the interfaces view reads operations from
    #[arg(long, global = true, default_value = "request_operation", value_parser = parse_label_name, value_name = "LABEL")]
    pub operation_label: String,
}

/// Istio's default cluster id, which the `*_cluster` metric labels carry unless the mesh
/// was installed with another `global.multiCluster.clusterName`.
pub const ISTIO_DEFAULT_CLUSTER: &str = "Kubernetes";

/// One cluster to watch: a kubeconfig context (`None`: the current one, or in-cluster
/// credentials) and the name its objects carry, which Istio's metrics must use too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterTarget {
    pub context: Option<String>,
    pub cluster: String,
}

impl LiveArgs {
    /// The clusters to watch: the current context when none is named, else one per
    /// `--context`, each cluster named once.
    pub fn clusters(&self) -> Result<Vec<ClusterTarget>, String> {
        if self.context.is_empty() {
            return Ok(vec![ClusterTarget {
                context: None,
                cluster: ISTIO_DEFAULT_CLUSTER.to_owned(),
            }]);
        }
        let mut targets: Vec<ClusterTarget> = Vec::with_capacity(self.context.len());
        for arg in &self.context {
            let cluster = arg.cluster.clone().unwrap_or_else(|| arg.context.clone());
            if targets
                .iter()
                .any(|t| t.context.as_deref() == Some(arg.context.as_str()))
            {
                return Err(format!("--context {} is given twice", arg.context));
            }
            if let Some(other) = targets.iter().find(|t| t.cluster == cluster) {
                return Err(format!(
                    "contexts {} and {} would both be cluster {cluster}: name them apart with \
                     CONTEXT=CLUSTER",
                    other.context.as_deref().unwrap_or_default(),
                    arg.context
                ));
            }
            targets.push(ClusterTarget {
                context: Some(arg.context.clone()),
                cluster,
            });
        }
        Ok(targets)
    }
}

/// How often a live source refreshes unless told otherwise.
pub const LIVE_REFRESH: Duration = Duration::from_secs(15);
/// The demo refreshes faster: its data costs nothing.
pub const DEMO_REFRESH: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum GraphTypeArg {
    #[default]
    VersionedApp,
    App,
    Workload,
    Service,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DisplayArgs {
    /// Theme: dark, light, high-contrast, monochrome, or a path to a TOML theme file
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Keymap: default, vim, or a path to a TOML keymap file
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub keymap: Option<String>,
    /// Colour depth; `auto` honours NO_COLOR, COLORTERM and TERM
    #[arg(long, global = true, value_enum)]
    pub color: Option<ColorArg>,
    /// Draw with ASCII characters only (automatic when the locale is not UTF-8)
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Directory holding config.toml, keymap.toml and theme.toml [default: $XDG_CONFIG_HOME/meshtui]
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Truecolor,
    #[value(name = "256")]
    Ansi256,
    #[value(name = "16")]
    Ansi16,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explore an embedded simulated mesh (Bookinfo plus a shop), no cluster needed
    Demo(DemoArgs),
    /// Print the graph once, as JSON or DOT, and exit (same source flags as the TUI)
    Graph(GraphArgs),
    /// Check routing rules as `istioctl analyze` does (its VirtualService and
    /// DestinationRule analyzers), in manifests or in the live cluster
    Analyze(AnalyzeArgs),
    /// Change a service's routing as the rule forms do: check, preview (the server's dry
    /// run), print the diff, apply with server-side apply
    Rule(RuleArgs),
}

#[derive(Debug, Args, Clone)]
pub struct AnalyzeArgs {
    /// Manifests to analyze instead of the live cluster: files, directories (their
    /// *.yaml, *.yml and *.json files) or - for standard input
    #[arg(short = 'f', long = "file", value_name = "FILE", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Output format
    #[arg(short, long, value_enum, default_value_t = AnalyzeFormat::Text)]
    pub output: AnalyzeFormat,
    /// Run only this analyzer, named as istioctl names it (repeatable) [default: all]
    #[arg(long = "analyzer", value_name = "NAME")]
    pub analyzers: Vec<String>,
    /// List the analyzers and exit
    #[arg(short = 'L', long)]
    pub list_analyzers: bool,
    /// Exit with status 79 when a message is at least this severe (text output, as istioctl)
    #[arg(long, value_enum, default_value_t = LevelArg::Error)]
    pub failure_threshold: LevelArg,
    /// Print only the messages at least this severe
    #[arg(long, value_enum, default_value_t = LevelArg::Info)]
    pub output_threshold: LevelArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// istioctl's log lines: `Error [IST0101] (VirtualService ns/name file:line) ...`
    Text,
    /// A JSON array of istioctl's message objects
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Args, Clone)]
pub struct GraphArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t = GraphFormat::Json)]
    pub output: GraphFormat,
    /// The instant to read, for replay: Unix seconds or UTC like 2026-11-24T22:00:00Z [default: now]
    #[arg(long, value_parser = parse_instant, value_name = "TIME")]
    pub time: Option<f64>,
    /// Graph the embedded demo mesh instead of a live one
    #[arg(long)]
    pub demo: bool,
    /// With --demo: the simulation's seed
    #[arg(long, default_value_t = 1, requires = "demo")]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Json,
    Dot,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Seed of the simulation; the same seed gives the same traffic [default: from the clock]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace Bookinfo and the shop by a generated mesh of about this many services
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub services: Option<u32>,
    /// Start the simulated clock at a fixed instant and never read the wall clock (for tests)
    #[arg(long)]
    pub frozen_clock: bool,
    /// Also serve the simulated proxies' metrics for Prometheus to scrape at http://ADDR/metrics
    #[arg(long, value_name = "ADDR")]
    pub serve_metrics: Option<std::net::SocketAddr>,
    /// Exit right after the first frame with data is drawn (start-up benchmark)
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster to watch as (context, cluster name).
    type Target = (Option<String>, String);

    fn clusters(args: &[&str]) -> Result<Vec<Target>, String> {
        let cli = Cli::try_parse_from(std::iter::once("meshtui").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        let targets = cli.live.clusters()?;
        Ok(targets
            .into_iter()
            .map(|t| (t.context, t.cluster))
            .collect())
    }

    fn target(context: &str, cluster: &str) -> Target {
        (Some(context.into()), cluster.into())
    }

    #[test]
    fn contexts_are_repeated_or_comma_separated_each_named_as_its_cluster_unless_mapped() {
        let cases: [(&str, &[&str], Vec<Target>); 5] = [
            (
                "none: the current context, Istio's default cluster id",
                &[],
                vec![(None, "Kubernetes".into())],
            ),
            ("one", &["--context", "prod"], vec![target("prod", "prod")]),
            (
                "repeated",
                &["--context", "east", "--context", "west=cluster-west"],
                vec![target("east", "east"), target("west", "cluster-west")],
            ),
            (
                "comma-separated",
                &["--context=east=cluster1,west=cluster2"],
                vec![target("east", "cluster1"), target("west", "cluster2")],
            ),
            (
                "after a subcommand",
                &["graph", "--context", "a,b", "--demo"],
                vec![target("a", "a"), target("b", "b")],
            ),
        ];
        for (name, args, expected) in cases {
            assert_eq!(clusters(args).unwrap(), expected, "{name}");
        }
    }

    #[test]
    fn a_context_given_twice_or_two_contexts_named_as_one_cluster_are_refused() {
        let cases: [(&[&str], &str); 4] = [
            (&["--context", "east,east"], "given twice"),
            (&["--context", "east=c1,west=c1"], "both be cluster c1"),
            (&["--context", "east,west=east"], "both be cluster east"),
            (&["--context", "east,=west"], "names no context"),
        ];
        for (args, says) in cases {
            let error = clusters(args).unwrap_err();
            assert!(error.contains(says), "{args:?}: {error}");
        }
    }
}
