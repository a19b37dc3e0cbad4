//! `meshtui rule`: a rule form filled from flags, down the forms' own path — the draft,
//! the field and semantic checks, the writer's preview (CRD schema, then the server's dry
//! run), the diff, then server-side apply — with an exit status a script can act on.

use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use tokio::sync::mpsc;

use super::live::settle;
use super::ExitStatus;
use crate::app::forms::command::target_named;
use crate::app::forms::diff::{diff_rows, DiffRow};
use crate::app::forms::{check_draft, rule_request, target, Draft, FormKind};
use crate::cli::rule::{CanaryArgs, MatchArg};
use crate::cli::{LiveArgs, RuleArgs, RuleCommon, RuleForm, RuleOutput};
use crate::mesh::rules::diff::{to_yaml, without_server_fields};
use crate::mesh::rules::model::{StringMatch, Target};
use crate::mesh::rules::render::ObjectChange;
use crate::mesh::rules::validate::{
    CanaryRuleInput, Field, FieldIssue, MatchInput, MatchKind, WeightInput,
};
use crate::mesh::sanitize::sanitize;
use crate::mesh::{Inventory, MeshGraph};
use crate::source::demo::{DemoMesh, DemoOptions};
use crate::source::kube::{client_for, watch_clusters, InventorySettings, KubeWriter};
use crate::source::write::{
    Applied, PlannedObject, Preview, RuleWriter, WriteCommand, WriteError, WriteEvent,
};

/// Exit statuses of `meshtui rule` (README lists them).
pub mod exit {
    /// A flag that does not read, or a combination that makes no sense (clap's own too).
    pub const USAGE: u8 = 2;
    /// The rule is invalid: meshtui's checks (fields, semantics, CRD schema) or the
    /// server's (422) refused it. Nothing was written.
    pub const INVALID: u8 = 3;
    /// Other managers own fields the rule changes (409); `--force` takes them over.
    pub const CONFLICT: u8 = 4;
    /// Writing is not allowed: `--readonly`, or RBAC.
    pub const NOT_ALLOWED: u8 = 5;
}

/// How long the cluster's objects may take to list before giving up.
const LIST_PATIENCE: Duration = Duration::from_secs(30);

fn usage(message: impl Into<String>) -> anyhow::Error {
    ExitStatus {
        code: exit::USAGE,
        message: message.into(),
    }
    .into()
}

pub async fn run(args: &RuleArgs, live: &LiveArgs) -> Result<()> {
    let common = args.form.common();
    if live.namespaces.len() > 1 {
        return Err(usage("a rule is for one service: give one -n NAMESPACE"));
    }
    let target = target_named(&common.service, live.namespaces.first().map(String::as_str))
        .map_err(|e| usage(format!("{e} (or give -n NAMESPACE)")))?;
    if common.demo && !common.dry_run {
        return Err(usage(
            "the demo mesh lives inside `meshtui demo`, so a write from here would be lost: \
             add --dry-run to see what the rule would write, or apply it from the demo's forms",
        ));
    }
    let (inventory, graph, writer) = if common.demo {
        demo_surroundings(live)
    } else {
        live_surroundings(live, &target).await?
    };
    let versions = target::versions_of(&inventory, &graph, &target);
    let names: Vec<String> = versions.iter().map(|v| v.version.name.clone()).collect();
    let current = target::current_split(&inventory, &graph, &target, &versions);
    let draft = draft_of(&args.form, &names, current.as_deref())?;
    let virtual_services = target::virtual_services(&inventory, &target);
    let change = check_draft(&draft, &target, &versions, &virtual_services)
        .map_err(|issues| refused_by_checks(&issues, &draft))?;
    let request = rule_request(&target, &versions, change);

    let mut writer = Driver::start(writer);
    writer
        .check_access(&target.namespace)
        .await
        .map_err(failed)?;
    let preview = writer.preview(request).await.map_err(failed)?;
    let label = format!(
        "{} on {}.{}",
        kind_of(&args.form).title(),
        target.service,
        target.namespace
    );
    if preview.objects.is_empty() {
        eprintln!("{label}: nothing to change, the service is routed so already");
        return Ok(());
    }
    if common.dry_run || common.output == RuleOutput::Diff {
        print(&render(&preview.objects, &preview, common))?;
    }
    if common.dry_run {
        eprintln!("{label}: dry run, nothing written");
        return Ok(());
    }
    let applied = writer.apply(&preview, common.force).await.map_err(failed)?;
    if common.output == RuleOutput::Yaml {
        print(&render(&applied.objects, &preview, common))?;
    }
    let count = applied.objects.len();
    eprintln!(
        "applied {label}: {count} object{} changed",
        if count == 1 { "" } else { "s" }
    );
    Ok(())
}

fn kind_of(form: &RuleForm) -> FormKind {
    match form {
        RuleForm::Shift(_) => FormKind::Shift,
        RuleForm::Canary(_) => FormKind::Canary,
        RuleForm::Fault(_) => FormKind::Fault,
        RuleForm::Breaker(_) => FormKind::Breaker,
        RuleForm::Timeout(_) => FormKind::Timeouts,
        RuleForm::Reset(_) => FormKind::Reset,
    }
}

/// The inventory around the service and a writer of its cluster; only the service's
/// namespace is listed.
async fn live_surroundings(
    live: &LiveArgs,
    target: &Target,
) -> Result<(Inventory, MeshGraph, Box<dyn RuleWriter>)> {
    let clusters = live.clusters().map_err(usage)?;
    let [cluster] = clusters.as_slice() else {
        return Err(usage(
            "a rule is written to one cluster: give one --context",
        ));
    };
    let client = client_for(cluster.context.as_deref())
        .await
        .context("connecting to the cluster (`meshtui rule --demo --dry-run` needs none)")?;
    let settings = InventorySettings {
        namespaces: vec![target.namespace.clone()],
        cluster: cluster.cluster.clone(),
    };
    let (feeds, task) = watch_clusters(vec![(client.clone(), settings)]);
    let settled = settle(&feeds, LIST_PATIENCE).await;
    task.abort();
    let inventory = settled.context("reading the service's versions")?.inventory;
    let writer = if live.readonly {
        KubeWriter::read_only(client)
    } else {
        KubeWriter::new(client)
    };
    Ok((inventory, MeshGraph::default(), Box::new(writer)))
}

/// The demo mesh as `meshtui demo` starts: its services, and no rules yet.
fn demo_surroundings(live: &LiveArgs) -> (Inventory, MeshGraph, Box<dyn RuleWriter>) {
    let mesh = DemoMesh::new(DemoOptions {
        window: live.window,
        ..DemoOptions::default()
    });
    let inventory = mesh.inventory();
    let writer = mesh.writer();
    let writer: Box<dyn RuleWriter> = if live.readonly {
        Box::new(crate::source::demo::DemoWriter::new(
            writer.store().clone(),
            true,
        ))
    } else {
        Box::new(writer)
    };
    (inventory, MeshGraph::default(), writer)
}

/// The draft the form would hold had the flags been typed into it: the form's starting
/// draft with every field given replaced.
pub fn draft_of(
    form: &RuleForm,
    versions: &[String],
    current: Option<&[(String, u32)]>,
) -> Result<Draft> {
    let mut draft = Draft::starting(kind_of(form), versions, current);
    match (form, &mut draft) {
        (RuleForm::Shift(args), Draft::Shift(split)) => {
            let weights = weights(&args.weights)?;
            for weight in &mut split.weights {
                weight.text = "0".into();
            }
            set_weights(&mut split.weights, &mut split.locked, weights);
        }
        (RuleForm::Canary(args), Draft::Canary { rules, split }) => {
            *rules = canary_rules(args)?;
            if !args.weights.is_empty() {
                let weights = weights(&args.weights)?;
                for weight in &mut split.weights {
                    weight.text = "0".into();
                }
                set_weights(&mut split.weights, &mut split.locked, weights);
            }
        }
        (RuleForm::Fault(args), Draft::Fault(fault)) => {
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            fault.delay = text(&args.delay);
            fault.delay_percent = text(&args.delay_percent);
            fault.abort_status = text(&args.abort);
            fault.abort_percent = text(&args.abort_percent);
            fault.only = match (&args.header, &args.cookie) {
                (Some(header), _) => match_input(&MatchArg::Header(header.clone()))?,
                (None, Some(cookie)) => match_input(&MatchArg::Cookie(cookie.clone()))?,
                (None, None) => MatchInput::any(),
            };
        }
        (RuleForm::Breaker(args), Draft::Breaker(breaker)) => {
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            breaker.max_connections = text(&args.max_connections);
            breaker.max_pending_requests = text(&args.max_pending_requests);
            breaker.max_requests_per_connection = text(&args.max_requests_per_connection);
            breaker.consecutive_5xx_errors = text(&args.consecutive_5xx_errors);
            breaker.interval = text(&args.interval);
            breaker.base_ejection_time = text(&args.base_ejection_time);
            breaker.max_ejection_percent = text(&args.max_ejection_percent);
        }
        (RuleForm::Timeout(args), Draft::Timeouts(timeouts)) => {
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            timeouts.timeout = text(&args.request_timeout);
            timeouts.attempts = text(&args.attempts);
            timeouts.per_try_timeout = text(&args.per_try_timeout);
            timeouts.retry_on = text(&args.retry_on);
        }
        (RuleForm::Reset(_), Draft::Reset) => {}
        _ => {
            return Err(anyhow!(
                "the {} form has no such draft",
                kind_of(form).title()
            ))
        }
    }
    Ok(draft)
}

/// `VERSION=PERCENT` pairs, as typed (the percent is checked with the form's checks).
fn weights(typed: &[String]) -> Result<Vec<(String, String)>> {
    typed
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((version, percent)) if !version.trim().is_empty() => {
                Ok((version.trim().to_owned(), percent.trim().to_owned()))
            }
            _ => Err(usage(format!(
                "--weight {pair}: write VERSION=PERCENT, e.g. --weight v1=80"
            ))),
        })
        .collect()
}

/// Gives each named version its weight; a version named twice, or one the service does
/// not have, is added as typed so that the checks say what is wrong with it.
fn set_weights(
    inputs: &mut Vec<WeightInput>,
    locked: &mut Vec<bool>,
    typed: Vec<(String, String)>,
) {
    let mut set: Vec<String> = Vec::new();
    for (version, text) in typed {
        match inputs.iter_mut().find(|w| w.version == version) {
            Some(input) if !set.contains(&version) => input.text = text,
            _ => {
                inputs.push(WeightInput {
                    version: version.clone(),
                    text,
                });
                locked.push(false);
            }
        }
        set.push(version);
    }
}

fn canary_rules(args: &CanaryArgs) -> Result<Vec<CanaryRuleInput>> {
    if let Some(version) = args.stray_to.first() {
        return Err(usage(format!(
            "--to {version} follows no --header, --cookie or --every-request: each rule is a \
             match, then --to VERSION"
        )));
    }
    args.rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let Some(version) = &rule.to else {
                return Err(usage(format!(
                    "canary rule {} sends its requests nowhere: add --to VERSION after it",
                    i + 1
                )));
            };
            Ok(CanaryRuleInput {
                matcher: match_input(&rule.matcher)?,
                version: version.clone(),
            })
        })
        .collect()
}

/// `NAME=[exact:|prefix:|regex:]VALUE` for a header, `NAME=VALUE` for a cookie.
fn match_input(typed: &MatchArg) -> Result<MatchInput> {
    let (text, flag) = match typed {
        MatchArg::Every => return Ok(MatchInput::any()),
        MatchArg::Header(text) => (text, "--header"),
        MatchArg::Cookie(text) => (text, "--cookie"),
    };
    let Some((name, value)) = text.split_once('=') else {
        return Err(usage(format!(
            "{flag} {text}: write NAME=VALUE, e.g. {flag} end-user=jason"
        )));
    };
    let (kind, value) = match typed {
        MatchArg::Cookie(_) => (MatchKind::Cookie, value),
        _ => [StringMatch::Exact, StringMatch::Prefix, StringMatch::Regex]
            .into_iter()
            .find_map(|how| {
                value
                    .strip_prefix(how.key())
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|rest| (MatchKind::Header(how), rest))
            })
            .unwrap_or((MatchKind::Header(StringMatch::Exact), value)),
    };
    Ok(MatchInput {
        kind,
        name: name.to_owned(),
        value: value.to_owned(),
    })
}

/// The flag a form field was given with, to say where a problem is.
fn flag_of(field: Field, draft: &Draft) -> String {
    let rule = |i: usize, part: &str| format!("canary rule {} ({part})", i + 1);
    match field {
        Field::Form => "the rule".into(),
        Field::Weights => "--weight".into(),
        Field::Weight(i) => match draft.split().and_then(|s| s.weights.get(i)) {
            Some(weight) => format!("--weight {}", weight.version),
            None => "--weight".into(),
        },
        Field::CanaryMatch(i) => rule(i, "the match"),
        Field::CanaryName(i) => rule(i, "the name"),
        Field::CanaryValue(i) => rule(i, "the value"),
        Field::CanaryVersion(i) => rule(i, "--to"),
        Field::DelayFixed => "--delay".into(),
        Field::DelayPercent => "--delay-percent".into(),
        Field::AbortStatus => "--abort".into(),
        Field::AbortPercent => "--abort-percent".into(),
        Field::FaultMatch => "--header/--cookie".into(),
        Field::MatchName => "--header/--cookie (the name)".into(),
        Field::MatchValue => "--header/--cookie (the value)".into(),
        Field::MaxConnections => "--max-connections".into(),
        Field::MaxPendingRequests => "--max-pending-requests".into(),
        Field::MaxRequestsPerConnection => "--max-requests-per-connection".into(),
        Field::Consecutive5xxErrors => "--consecutive-5xx".into(),
        Field::Interval => "--interval".into(),
        Field::BaseEjectionTime => "--base-ejection".into(),
        Field::MaxEjectionPercent => "--max-ejection-percent".into(),
        Field::Timeout => "--request-timeout".into(),
        Field::Attempts => "--attempts".into(),
        Field::PerTryTimeout => "--per-try-timeout".into(),
        Field::RetryOn => "--retry-on".into(),
    }
}

fn refused_by_checks(issues: &[FieldIssue], draft: &Draft) -> anyhow::Error {
    let lines: Vec<String> = issues
        .iter()
        .map(|issue| {
            format!(
                "  {}: {}",
                flag_of(issue.field, draft),
                sanitize(&issue.to_string())
            )
        })
        .collect();
    ExitStatus {
        code: exit::INVALID,
        message: format!(
            "the rule is refused, nothing was sent:\n{}",
            lines.join("\n")
        ),
    }
    .into()
}

/// A writer's refusal, with the exit status that names its kind.
fn failed(error: WriteError) -> anyhow::Error {
    let code = match &error {
        WriteError::ReadOnly | WriteError::NotAllowed { .. } => exit::NOT_ALLOWED,
        WriteError::Invalid { .. } => exit::INVALID,
        WriteError::Conflict { .. } => exit::CONFLICT,
        WriteError::Changed { .. } | WriteError::NotFound { .. } | WriteError::Failed(_) => {
            return anyhow!(sanitize(&error.to_string()));
        }
    };
    let message = match &error {
        WriteError::Conflict { object, owners, .. } => {
            let owners: Vec<String> = owners
                .iter()
                .map(|o| format!("  {} is owned by {}", o.field, o.manager))
                .collect();
            format!(
                "{object}: other managers own fields this rule changes; nothing was written:\n{}\n\
                 run again with --force to take them over",
                owners.join("\n")
            )
        }
        WriteError::Invalid { object, causes } => {
            let causes: Vec<String> = causes.iter().map(|c| format!("  {c}")).collect();
            format!(
                "{object} is invalid, nothing was written:\n{}",
                causes.join("\n")
            )
        }
        other => other.to_string(),
    };
    ExitStatus {
        code,
        message: message.lines().map(sanitize).collect::<Vec<_>>().join("\n"),
    }
    .into()
}

/// The objects as `-o` asks: the diff of the preview, or each object after the write.
fn render(objects: &[PlannedObject], preview: &Preview, common: &RuleCommon) -> String {
    let mut out = String::new();
    match common.output {
        RuleOutput::Diff => {
            for row in diff_rows(preview) {
                match row {
                    DiffRow::Object(header) => {
                        out.push_str(&format!("--- {header}\n+++ {header}\n"));
                    }
                    DiffRow::Line(line) => {
                        out.push_str(&line.text());
                        out.push('\n');
                    }
                }
            }
        }
        RuleOutput::Yaml => {
            for planned in objects {
                out.push_str("---\n");
                match (&planned.after, &planned.change) {
                    (Some(after), _) => {
                        let yaml = to_yaml(&without_server_fields(after));
                        for line in yaml.lines().filter(|l| *l != "---") {
                            out.push_str(&sanitize(line));
                            out.push('\n');
                        }
                    }
                    (
                        None,
                        ObjectChange::Delete {
                            kind,
                            namespace,
                            name,
                        },
                    ) => {
                        out.push_str(&sanitize(&format!(
                            "# deleted: {kind} {namespace}/{name}\n"
                        )));
                    }
                    (None, ObjectChange::Apply(_)) => {}
                }
            }
        }
    }
    out
}

fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing to standard output")
}

/// A writer driven one command at a time, as the forms drive it.
struct Driver {
    commands: mpsc::Sender<WriteCommand>,
    events: mpsc::Receiver<WriteEvent>,
    next_id: u64,
}

impl Driver {
    fn start(writer: Box<dyn RuleWriter>) -> Self {
        let (commands, commands_out) = mpsc::channel(1);
        let (events_in, events) = mpsc::channel(1);
        tokio::spawn(writer.run(events_in, commands_out));
        Driver {
            commands,
            events,
            next_id: 0,
        }
    }

    async fn send(
        &mut self,
        command: impl FnOnce(u64) -> WriteCommand,
    ) -> Result<WriteEvent, WriteError> {
        self.next_id += 1;
        let stopped = || WriteError::Failed("the rule writer stopped".into());
        self.commands
            .send(command(self.next_id))
            .await
            .map_err(|_| stopped())?;
        self.events.recv().await.ok_or_else(stopped)
    }

    async fn check_access(&mut self, namespace: &str) -> Result<(), WriteError> {
        let namespace = namespace.to_owned();
        match self
            .send(|id| WriteCommand::CheckAccess { id, namespace })
            .await?
        {
            WriteEvent::Access { result, .. } => result,
            other => Err(unexpected(&other)),
        }
    }

    async fn preview(
        &mut self,
        request: crate::source::write::RuleRequest,
    ) -> Result<Preview, WriteError> {
        match self
            .send(|id| WriteCommand::Preview { id, request })
            .await?
        {
            WriteEvent::Previewed { result, .. } => result,
            other => Err(unexpected(&other)),
        }
    }

    async fn apply(&mut self, preview: &Preview, force: bool) -> Result<Applied, WriteError> {
        let preview = preview.clone();
        match self
            .send(|id| WriteCommand::Apply { id, preview, force })
            .await?
        {
            WriteEvent::Applied { result, .. } => result,
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(event: &WriteEvent) -> WriteError {
    WriteError::Failed(format!("the rule writer answered out of turn: {event:?}"))
}
