//! `destinationrule.CaCertificateAnalyzer` (IST0128, IST0129): TLS mode SIMPLE or MUTUAL
//! without `caCertificates` does not verify the server, unless a `credentialName` supplies
//! them for a DestinationRule with a workload selector.

use serde_json::Value;

use crate::mesh::rules::analyze::message::{text, Message, MessageKind};
use crate::mesh::rules::analyze::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, items, number, str_of};

pub fn analyze(snapshot: &Snapshot, out: &mut Vec<Message>) {
    for rule in snapshot.of_kind(Kind::DestinationRule) {
        let spec = rule.spec();
        let host = str_of(field(spec, "host"));
        let has_selector = !field(spec, "workloadSelector").is_null();
        let policy = field(spec, "trafficPolicy");
        let tls = field(policy, "tls");
        if let Some(mode) = unverified_mode(tls, has_selector) {
            out.push(Message::about(
                rule,
                Some(".spec.trafficPolicy.tls.caCertificates"),
                MessageKind::NoServerCertificateVerificationDestinationLevel,
                text::no_ca_destination_level(&rule.full_name(), rule.namespace(), mode, host),
            ));
        }
        for (index, port) in items(field(policy, "portLevelSettings")).iter().enumerate() {
            if let Some(mode) = unverified_mode(field(port, "tls"), has_selector) {
                let path =
                    format!(".spec.trafficPolicy.portLevelSettings[{index}].tls.caCertificates");
                out.push(Message::about(
                    rule,
                    Some(&path),
                    MessageKind::NoServerCertificateVerificationPortLevel,
                    text::no_ca_port_level(
                        &rule.full_name(),
                        rule.namespace(),
                        mode,
                        host,
                        &port_selector(field(port, "port")),
                    ),
                ));
            }
        }
    }
}

/// The TLS mode, when it leaves the server's certificate unchecked.
fn unverified_mode(tls: &Value, has_selector: bool) -> Option<&'static str> {
    let mode = match field(tls, "mode") {
        Value::String(mode) => mode.as_str(),
        other => match number(other) {
            Some(1) => "SIMPLE",
            Some(2) => "MUTUAL",
            _ => "",
        },
    };
    let mode = match mode {
        "SIMPLE" => "SIMPLE",
        "MUTUAL" => "MUTUAL",
        _ => return None,
    };
    let has_ca = !str_of(field(tls, "caCertificates")).is_empty();
    let credential_for_workloads = !str_of(field(tls, "credentialName")).is_empty() && has_selector;
    (!has_ca && !credential_for_workloads).then_some(mode)
}

/// The port selector as Go prints the message (`number:443`; `<nil>` when absent).
fn port_selector(port: &Value) -> String {
    if !port.is_object() {
        return "<nil>".into();
    }
    match number(field(port, "number")) {
        Some(n) if n != 0 => format!("number:{n}"),
        _ => String::new(),
    }
}
