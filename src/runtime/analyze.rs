//! `meshtui analyze`: reads manifests (or the cluster once), runs the analyzers and prints
//! their messages as istioctl does, with istioctl's exit codes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::ExitStatus;
use crate::cli::{AnalyzeArgs, AnalyzeFormat, LevelArg, LiveArgs};
use crate::mesh::rules::analyze::{
    analyze, AnalyzeOptions, Analyzer, Level, Message, ISTIO_NAMESPACE,
};
use crate::mesh::rules::{parse_objects, KubeObject};
use crate::mesh::sanitize::sanitize;
use crate::source::kube::{client_for, list_for_analysis};

/// istioctl's exit status when analyzers found issues at the failure threshold.
const FOUND_ISSUES: u8 = 79;
/// istioctl's exit status for input it could not parse.
const DATA_ERROR: u8 = 65;
const EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];
const DOCS: &str = "https://istio.io/latest/docs/reference/config/analysis";

pub async fn run(args: &AnalyzeArgs, live: &LiveArgs) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    if args.list_analyzers {
        for analyzer in Analyzer::ALL {
            writeln!(
                stdout,
                "* {}:\n    {}",
                analyzer.name(),
                analyzer.description()
            )
            .context("writing to standard output")?;
        }
        return Ok(());
    }
    let analyzers = chosen_analyzers(&args.analyzers)?;
    let mut parse_errors = Vec::new();
    let (objects, target, options) = if args.files.is_empty() {
        let objects = read_cluster(live).await?;
        let options = AnalyzeOptions {
            analyzers,
            default_namespace: None,
            builtin_defaults_in: None,
            namespaces: live.namespaces.clone(),
        };
        (objects, cluster_target(live), options)
    } else {
        let (objects, names, errors) = read_files(&args.files)?;
        // As istioctl: a manifest that does not parse is reported, the others analysed.
        if !errors.is_empty() {
            eprintln!("Error(s) adding files: {}", errors.join("\n"));
        }
        parse_errors = errors;
        let options = AnalyzeOptions {
            analyzers,
            // As `kubectl apply` would place them.
            default_namespace: Some(
                live.namespaces
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "default".to_owned()),
            ),
            builtin_defaults_in: Some(ISTIO_NAMESPACE.to_owned()),
            namespaces: live.namespaces.clone(),
        };
        (objects, names.join(", "), options)
    };
    let messages = analyze(objects, &options);
    let shown: Vec<&Message> = messages
        .iter()
        .filter(|m| m.level().at_least(level(args.output_threshold)))
        .collect();
    let text = match args.output {
        AnalyzeFormat::Text => shown
            .iter()
            .map(|m| format!("{}\n", sanitize(&m.render())))
            .collect::<String>(),
        AnalyzeFormat::Json => {
            let list: Vec<_> = shown.iter().map(|m| sanitized_json(m)).collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&list).context("writing the messages as JSON")?
            )
        }
    };
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing to standard output")?;
    if shown.is_empty() {
        eprintln!("\u{2714} No validation issues found when analyzing {target}.");
    }
    // As istioctl: only the log format sets the exit status, from the messages first, then
    // from manifests that did not parse.
    let failing = level(args.failure_threshold);
    if args.output != AnalyzeFormat::Text {
        return Ok(());
    }
    if messages.iter().any(|m| m.level().at_least(failing)) {
        return Err(ExitStatus {
            code: FOUND_ISSUES,
            message: format!(
                "analyzers found issues when analyzing {target}.\nSee {DOCS} for more information about causes and resolutions."
            ),
        }
        .into());
    }
    if !parse_errors.is_empty() {
        return Err(ExitStatus {
            code: DATA_ERROR,
            message: format!("{} manifest(s) could not be parsed", parse_errors.len()),
        }
        .into());
    }
    Ok(())
}

fn level(arg: LevelArg) -> Level {
    match arg {
        LevelArg::Error => Level::Error,
        LevelArg::Warning => Level::Warning,
        LevelArg::Info => Level::Info,
    }
}

fn chosen_analyzers(names: &[String]) -> Result<Vec<Analyzer>> {
    names
        .iter()
        .map(|name| match Analyzer::from_name(name) {
            Some(analyzer) => Ok(analyzer),
            None => {
                let known: Vec<&str> = Analyzer::ALL.iter().map(|a| a.name()).collect();
                bail!(
                    "no analyzer is named {name:?}; the analyzers are {}",
                    known.join(", ")
                )
            }
        })
        .collect()
}

fn sanitized_json(message: &Message) -> serde_json::Value {
    let mut json = message.to_json();
    if let Some(map) = json.as_object_mut() {
        for value in map.values_mut() {
            if let Some(text) = value.as_str() {
                *value = serde_json::Value::String(sanitize(text));
            }
        }
    }
    json
}

fn cluster_target(live: &LiveArgs) -> String {
    if live.namespaces.is_empty() {
        "all namespaces".to_owned()
    } else {
        format!("namespace: {}", live.namespaces.join(", "))
    }
}

async fn read_cluster(live: &LiveArgs) -> Result<Vec<KubeObject>> {
    if live.context.len() > 1 {
        bail!("analyze reads one cluster; give one --context");
    }
    let context = live.context.first().map(|c| c.context.as_str());
    let client = client_for(context)
        .await
        .context("connecting to the cluster (give manifests with -f to analyze files instead)")?;
    list_for_analysis(&client, &live.namespaces)
        .await
        .context("reading the cluster's routing rules")
}

/// The objects of every manifest named, the names of the files read, and why those that
/// did not parse did not (sanitized: they quote the file).
fn read_files(paths: &[PathBuf]) -> Result<(Vec<KubeObject>, Vec<String>, Vec<String>)> {
    let mut objects = Vec::new();
    let mut names = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        for (name, text) in manifests(path)? {
            match parse_objects(&name, &text) {
                Ok(parsed) => objects.extend(parsed),
                Err(error) => errors.push(sanitize(&error.to_string())),
            }
            names.push(name);
        }
    }
    Ok((objects, names, errors))
}

/// (name, text) of a file, of each manifest in a directory, or of standard input (`-`).
fn manifests(path: &Path) -> Result<Vec<(String, String)>> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading manifests from standard input")?;
        return Ok(vec![("-".to_owned(), text)]);
    }
    let name = path.display().to_string();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading the directory {name}"))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut found = Vec::new();
        for file in files {
            found.extend(manifests(&file)?);
        }
        return Ok(found);
    }
    let known = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e));
    if !known {
        eprintln!("Skipping file {name}, recognized file extensions are: [.json .yaml .yml]");
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    Ok(vec![(name, text)])
}
