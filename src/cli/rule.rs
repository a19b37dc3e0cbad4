//! `meshtui rule …`: one flag per field of each rule form, so a script can fill any form.
//! Values stay as typed: the forms' own checks read them, and say what is wrong.

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Subcommand, ValueEnum};

#[derive(Debug, Args, Clone)]
pub struct RuleArgs {
    #[command(subcommand)]
    pub form: RuleForm,
}

/// What every rule command takes besides its form's fields.
#[derive(Debug, Args, Clone)]
pub struct RuleCommon {
    /// The service: reviews.bookinfo, bookinfo/reviews, or reviews with -n bookinfo
    #[arg(value_name = "SERVICE")]
    pub service: String,
    /// Check and preview (the server's dry run) only; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// What to print: the unified diff of every object, or the objects as they would be
    #[arg(short, long, value_enum, default_value_t = RuleOutput::Diff)]
    pub output: RuleOutput,
    /// After a 409 conflict: take over the fields other managers own
    #[arg(long)]
    pub force: bool,
    /// Render against the embedded demo mesh instead of a cluster (needs --dry-run)
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleOutput {
    /// A unified YAML diff per object, as the forms show it
    Diff,
    /// The objects as the server returned them (dry run or apply), as YAML documents
    Yaml,
}

#[derive(Debug, Subcommand, Clone)]
pub enum RuleForm {
    /// Gray release: a weight per version (adding up to 100; versions not named get 0)
    Shift(ShiftArgs),
    /// Canary by request: matching requests to one version, everyone else by weight
    Canary(CanaryArgs),
    /// Fault injection: a delay and/or an abort, for a share of (matching) requests
    Fault(FaultArgs),
    /// Circuit breaking: connection pool limits and outlier detection
    Breaker(BreakerArgs),
    /// Timeouts and retries
    Timeout(TimeoutArgs),
    /// Remove the routing meshtui wrote for the service
    Reset(ResetArgs),
}

impl RuleForm {
    pub fn common(&self) -> &RuleCommon {
        match self {
            RuleForm::Shift(a) => &a.common,
            RuleForm::Canary(a) => &a.common,
            RuleForm::Fault(a) => &a.common,
            RuleForm::Breaker(a) => &a.common,
            RuleForm::Timeout(a) => &a.common,
            RuleForm::Reset(a) => &a.common,
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct ShiftArgs {
    #[command(flatten)]
    pub common: RuleCommon,
    /// A version's share of requests in percent, e.g. v1=80 (repeatable)
    #[arg(long = "weight", value_name = "VERSION=PERCENT", required = true)]
    pub weights: Vec<String>,
}

/// Which requests a canary rule or a fault takes, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchArg {
    /// `NAME=[exact:|prefix:|regex:]VALUE`
    Header(String),
    /// `NAME=VALUE`
    Cookie(String),
    Every,
}

/// One canary rule: the match, then the version after `--to` (missing when not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryRuleArg {
    pub matcher: MatchArg,
    pub to: Option<String>,
}

/// Canary rules are read in the order typed: each `--header`, `--cookie` or
/// `--every-request` starts a rule, and the `--to` after it names its version. clap's
/// derive keeps each flag's values apart, so this one is read by hand to keep the order.
#[derive(Debug, Clone)]
pub struct CanaryArgs {
    pub common: RuleCommon,
    pub rules: Vec<CanaryRuleArg>,
    /// A `--to` with no match before it.
    pub stray_to: Vec<String>,
    /// Everyone else; none: the form's starting split.
    pub weights: Vec<String>,
}

const HEADER: &str = "header";
const COOKIE: &str = "cookie";
const EVERY: &str = "every_request";
const TO: &str = "to";
const WEIGHT: &str = "weight";

impl Args for CanaryArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let cmd = RuleCommon::augment_args(cmd);
        cmd.arg(
            Arg::new(HEADER)
                .long("header")
                .value_name("NAME=[exact:|prefix:|regex:]VALUE")
                .action(ArgAction::Append)
                .help("Start a rule: requests with this header (exact unless prefix: or regex:)"),
        )
        .arg(
            Arg::new(COOKIE)
                .long("cookie")
                .value_name("NAME=VALUE")
                .action(ArgAction::Append)
                .help("Start a rule: requests with this cookie"),
        )
        .arg(
            Arg::new(EVERY)
                .long("every-request")
                .action(ArgAction::Count)
                .help("Start a rule for every request (only as the last rule)"),
        )
        .arg(
            Arg::new(TO)
                .long("to")
                .value_name("VERSION")
                .action(ArgAction::Append)
                .help("The version the rule before sends its requests to"),
        )
        .arg(
            Arg::new(WEIGHT)
                .long("weight")
                .value_name("VERSION=PERCENT")
                .action(ArgAction::Append)
                .help("Everyone else: a version's share in percent (repeatable)"),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for CanaryArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let common = RuleCommon::from_arg_matches(matches)?;
        let values = |id: &str| -> Vec<(usize, String)> {
            match (matches.indices_of(id), matches.get_many::<String>(id)) {
                (Some(at), Some(values)) => at.zip(values.cloned()).collect(),
                _ => Vec::new(),
            }
        };
        // A count flag has one index per use, and one for its default when unused.
        let every: Vec<usize> = match matches.value_source(EVERY) {
            Some(clap::parser::ValueSource::CommandLine) => matches
                .indices_of(EVERY)
                .map(Iterator::collect)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut typed: Vec<(usize, Option<MatchArg>, Option<String>)> = Vec::new();
        typed.extend(
            values(HEADER)
                .into_iter()
                .map(|(i, v)| (i, Some(MatchArg::Header(v)), None)),
        );
        typed.extend(
            values(COOKIE)
                .into_iter()
                .map(|(i, v)| (i, Some(MatchArg::Cookie(v)), None)),
        );
        typed.extend(every.into_iter().map(|i| (i, Some(MatchArg::Every), None)));
        typed.extend(values(TO).into_iter().map(|(i, v)| (i, None, Some(v))));
        typed.sort_by_key(|(i, _, _)| *i);
        let mut rules: Vec<CanaryRuleArg> = Vec::new();
        let mut stray_to = Vec::new();
        for (_, matcher, to) in typed {
            match (matcher, to) {
                (Some(matcher), _) => rules.push(CanaryRuleArg { matcher, to: None }),
                (None, Some(version)) => match rules.last_mut() {
                    Some(rule) if rule.to.is_none() => rule.to = Some(version),
                    _ => stray_to.push(version),
                },
                (None, None) => {}
            }
        }
        let weights = values(WEIGHT).into_iter().map(|(_, v)| v).collect();
        Ok(CanaryArgs {
            common,
            rules,
            stray_to,
            weights,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

#[derive(Debug, Args, Clone)]
pub struct FaultArgs {
    #[command(flatten)]
    pub common: RuleCommon,
    /// Delay requests this long, e.g. 2s or 500ms
    #[arg(long, value_name = "DURATION")]
    pub delay: Option<String>,
    /// The share of requests delayed, 0 to 100
    #[arg(long, value_name = "PERCENT")]
    pub delay_percent: Option<String>,
    /// Abort requests with this HTTP status, e.g. 503
    #[arg(long, value_name = "STATUS")]
    pub abort: Option<String>,
    /// The share of requests aborted, 0 to 100
    #[arg(long, value_name = "PERCENT")]
    pub abort_percent: Option<String>,
    /// Only requests with this header (exact unless prefix: or regex:)
    #[arg(
        long,
        value_name = "NAME=[exact:|prefix:|regex:]VALUE",
        conflicts_with = "cookie"
    )]
    pub header: Option<String>,
    /// Only requests with this cookie
    #[arg(long, value_name = "NAME=VALUE")]
    pub cookie: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct BreakerArgs {
    #[command(flatten)]
    pub common: RuleCommon,
    /// Most TCP connections to the service
    #[arg(long, value_name = "N")]
    pub max_connections: Option<String>,
    /// Most requests waiting for a connection
    #[arg(long, value_name = "N")]
    pub max_pending_requests: Option<String>,
    /// Most requests per connection (1 turns keep-alive off)
    #[arg(long, value_name = "N")]
    pub max_requests_per_connection: Option<String>,
    /// Consecutive 5xx errors that eject a host
    #[arg(long = "consecutive-5xx", value_name = "N")]
    pub consecutive_5xx_errors: Option<String>,
    /// Time between ejection sweeps, e.g. 10s
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
    /// Minimum ejection time, e.g. 30s
    #[arg(long = "base-ejection", value_name = "DURATION")]
    pub base_ejection_time: Option<String>,
    /// Most hosts ejected at once, in percent
    #[arg(long, value_name = "PERCENT")]
    pub max_ejection_percent: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct TimeoutArgs {
    #[command(flatten)]
    pub common: RuleCommon,
    /// The request's timeout, e.g. 2s (`--timeout` is Prometheus's, for every command)
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Retry attempts
    #[arg(long, value_name = "N")]
    pub attempts: Option<String>,
    /// Timeout of each attempt, e.g. 500ms
    #[arg(long, value_name = "DURATION")]
    pub per_try_timeout: Option<String>,
    /// Retry conditions, comma-separated, e.g. 5xx,reset,connect-failure
    #[arg(long, value_name = "CONDITIONS")]
    pub retry_on: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ResetArgs {
    #[command(flatten)]
    pub common: RuleCommon,
}

#[cfg(test)]
mod tests {
    use super::super::{Cli, Command};
    use super::*;
    use clap::Parser;

    fn canary(args: &[&str]) -> CanaryArgs {
        let cli = Cli::try_parse_from(
            ["meshtui", "rule", "canary", "reviews.bookinfo"]
                .iter()
                .chain(args),
        )
        .unwrap();
        match cli.command {
            Some(Command::Rule(RuleArgs {
                form: RuleForm::Canary(canary),
            })) => canary,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn canary_rules_keep_the_order_typed_each_with_the_version_after_it() {
        let args = canary(&[
            "--cookie",
            "user=jason",
            "--to",
            "v3",
            "--weight",
            "v1=100",
            "--header",
            "end-user=exact:jason",
            "--to",
            "v2",
            "--every-request",
        ]);
        assert_eq!(
            args.rules,
            [
                CanaryRuleArg {
                    matcher: MatchArg::Cookie("user=jason".into()),
                    to: Some("v3".into())
                },
                CanaryRuleArg {
                    matcher: MatchArg::Header("end-user=exact:jason".into()),
                    to: Some("v2".into())
                },
                CanaryRuleArg {
                    matcher: MatchArg::Every,
                    to: None
                },
            ]
        );
        assert_eq!(args.weights, ["v1=100"]);
        assert!(args.stray_to.is_empty());
        assert_eq!(args.common.service, "reviews.bookinfo");
    }

    #[test]
    fn a_version_with_no_rule_before_it_is_kept_aside_to_be_refused() {
        let args = canary(&["--to", "v2", "--header", "a=b", "--to", "v1", "--to", "v3"]);
        assert_eq!(args.stray_to, ["v2", "v3"]);
        assert_eq!(args.rules.len(), 1);
    }
}
