//! The semantic layer: input that reads fine field by field but would route badly —
//! weights not adding up to 100, a destination twice, a version that does not exist or has
//! no pods, a VirtualService for the host besides the one meshtui edits. Codes and wording
//! follow istioctl's analyzers where they report the same thing.

use serde_json::Value;

use super::{Field, FieldIssue, Surroundings};
use crate::mesh::rules::analyze::message::{text, MessageKind};
use crate::mesh::rules::analyze::{self, AnalyzeOptions, Analyzer};
use crate::mesh::rules::model::RuleChange;
use crate::mesh::rules::object::KubeObject;
use crate::mesh::rules::render::{render, Existing, ObjectChange};

fn code(kind: MessageKind) -> &'static str {
    kind.code()
}

/// A route to `version` must reach pods: the version must be one the service has
/// (IST0101: no subset for it) and, when pods are known, have some (IST0173).
pub fn version_is_routable(
    version: &str,
    field: Field,
    around: &Surroundings<'_>,
) -> Option<FieldIssue> {
    let Some(known) = around.versions.iter().find(|v| v.version.name == version) else {
        return Some(FieldIssue::coded(
            field,
            code(MessageKind::ReferencedResourceNotFound),
            text::referenced_resource_not_found(
                "host+subset in destinationrule",
                &format!("{}+{version}", around.target.service),
            ),
        ));
    };
    (known.pods == Some(0)).then(|| {
        FieldIssue::coded(
            field,
            code(MessageKind::DestinationRuleSubsetNotSelectPods),
            text::subset_selects_no_pods(version),
        )
    })
}

/// The checks on a split once every weight reads as a number: each version once, routable
/// when it gets traffic, and 100 in all.
pub fn split_issues(weights: &[(String, u32)], around: &Surroundings<'_>) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    if weights.is_empty() {
        issues.push(FieldIssue::new(
            Field::Weights,
            format!(
                "{} has no versions to split traffic between",
                around.target.service
            ),
        ));
        return issues;
    }
    for (i, (version, weight)) in weights.iter().enumerate() {
        if weights[..i].iter().any(|(earlier, _)| earlier == version) {
            issues.push(FieldIssue::new(
                Field::Weight(i),
                format!("{version} is listed twice: a route names each destination once"),
            ));
        } else if *weight > 0 {
            issues.extend(version_is_routable(version, Field::Weight(i), around));
        }
    }
    let total: u64 = weights.iter().map(|(_, w)| u64::from(*w)).sum();
    if total != 100 {
        issues.push(FieldIssue::new(
            Field::Weights,
            format!("the weights add up to {total}; they must add up to 100"),
        ));
    }
    issues
}

/// IST0109: after the change, more than one VirtualService bound to the sidecars claims
/// the service's host. meshtui edits one in place; another one claiming the host makes
/// Istio's routing undefined, so nothing is applied until they are merged.
pub fn conflicting_virtual_services(
    change: &RuleChange,
    around: &Surroundings<'_>,
) -> Vec<FieldIssue> {
    let changes = render(
        around.target,
        &versions(around),
        change,
        Existing {
            virtual_services: around.virtual_services,
            destination_rules: around.destination_rules,
        },
    );
    let mut after: Vec<Value> = around.virtual_services.to_vec();
    for object_change in changes {
        match object_change {
            ObjectChange::Apply(object) if object["kind"] == "VirtualService" => {
                match after.iter_mut().find(|o| same_object(o, &object)) {
                    Some(existing) => *existing = object,
                    None => after.push(object),
                }
            }
            ObjectChange::Delete {
                kind,
                namespace,
                name,
            } if kind == "VirtualService" => after.retain(|o| {
                !(str_at(o, "/metadata/namespace") == namespace
                    && str_at(o, "/metadata/name") == name)
            }),
            _ => {}
        }
    }
    let claimants: Vec<KubeObject> = after
        .into_iter()
        .filter(|vs| names_target(vs, around))
        .map(|vs| KubeObject::new(vs, None))
        .collect();
    if claimants.len() < 2 {
        return Vec::new();
    }
    let options = AnalyzeOptions {
        analyzers: vec![Analyzer::ConflictingMeshGatewayHosts],
        builtin_defaults_in: None,
        ..AnalyzeOptions::default()
    };
    analyze::analyze(claimants, &options)
        .into_iter()
        .map(|message| FieldIssue::coded(Field::Form, message.code(), message.text))
        .take(1)
        .collect()
}

fn versions(around: &Surroundings<'_>) -> Vec<crate::mesh::rules::model::Version> {
    around.versions.iter().map(|v| v.version.clone()).collect()
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn same_object(a: &Value, b: &Value) -> bool {
    str_at(a, "/metadata/namespace") == str_at(b, "/metadata/namespace")
        && str_at(a, "/metadata/name") == str_at(b, "/metadata/name")
}

fn names_target(vs: &Value, around: &Surroundings<'_>) -> bool {
    let namespace = str_at(vs, "/metadata/namespace");
    vs.pointer("/spec/hosts")
        .and_then(Value::as_array)
        .is_some_and(|hosts| {
            hosts
                .iter()
                .filter_map(Value::as_str)
                .any(|host| around.target.is_named_by(host, namespace))
        })
}
