//! istioctl's analysis messages: the catalogue (code, type, level), the wording of each,
//! and the two ways istioctl prints them (log lines and JSON).

use std::cmp::Ordering;
use std::fmt;

use serde_json::{json, Value};

use crate::mesh::rules::object::KubeObject;

const DOCS: &str = "https://istio.io/latest/docs/reference/config/analysis";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "Error",
            Level::Warning => "Warning",
            Level::Info => "Info",
        }
    }

    /// At least as severe as `threshold`.
    pub fn at_least(self, threshold: Level) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every message type the VirtualService and DestinationRule analyzers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    ReferencedResourceNotFound,
    ConflictingMeshGatewayVirtualServiceHosts,
    VirtualServiceDestinationPortSelectorRequired,
    NoServerCertificateVerificationDestinationLevel,
    NoServerCertificateVerificationPortLevel,
    VirtualServiceUnreachableRule,
    VirtualServiceIneffectiveMatch,
    VirtualServiceHostNotFoundInGateway,
    IngressRouteRulesNotAffected,
    JwtClaimBasedRoutingWithoutRequestAuthN,
    ReferencedInternalGateway,
    DestinationRuleSubsetNotSelectPods,
    UnknownDestinationRuleHost,
}

impl MessageKind {
    pub const ALL: [MessageKind; 13] = [
        MessageKind::ReferencedResourceNotFound,
        MessageKind::ConflictingMeshGatewayVirtualServiceHosts,
        MessageKind::VirtualServiceDestinationPortSelectorRequired,
        MessageKind::NoServerCertificateVerificationDestinationLevel,
        MessageKind::NoServerCertificateVerificationPortLevel,
        MessageKind::VirtualServiceUnreachableRule,
        MessageKind::VirtualServiceIneffectiveMatch,
        MessageKind::VirtualServiceHostNotFoundInGateway,
        MessageKind::IngressRouteRulesNotAffected,
        MessageKind::JwtClaimBasedRoutingWithoutRequestAuthN,
        MessageKind::ReferencedInternalGateway,
        MessageKind::DestinationRuleSubsetNotSelectPods,
        MessageKind::UnknownDestinationRuleHost,
    ];

    pub fn code(self) -> &'static str {
        self.entry().0
    }

    /// The message type's name, as istioctl's `msg` package calls it.
    pub fn name(self) -> &'static str {
        self.entry().1
    }

    pub fn level(self) -> Level {
        self.entry().2
    }

    pub fn from_code(code: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.code() == code)
    }

    fn entry(self) -> (&'static str, &'static str, Level) {
        use Level::*;
        match self {
            MessageKind::ReferencedResourceNotFound => {
                ("IST0101", "ReferencedResourceNotFound", Error)
            }
            MessageKind::ConflictingMeshGatewayVirtualServiceHosts => (
                "IST0109",
                "ConflictingMeshGatewayVirtualServiceHosts",
                Error,
            ),
            MessageKind::VirtualServiceDestinationPortSelectorRequired => (
                "IST0112",
                "VirtualServiceDestinationPortSelectorRequired",
                Error,
            ),
            MessageKind::NoServerCertificateVerificationDestinationLevel => (
                "IST0128",
                "NoServerCertificateVerificationDestinationLevel",
                Warning,
            ),
            MessageKind::NoServerCertificateVerificationPortLevel => (
                "IST0129",
                "NoServerCertificateVerificationPortLevel",
                Warning,
            ),
            MessageKind::VirtualServiceUnreachableRule => {
                ("IST0130", "VirtualServiceUnreachableRule", Warning)
            }
            MessageKind::VirtualServiceIneffectiveMatch => {
                ("IST0131", "VirtualServiceIneffectiveMatch", Info)
            }
            MessageKind::VirtualServiceHostNotFoundInGateway => {
                ("IST0132", "VirtualServiceHostNotFoundInGateway", Warning)
            }
            MessageKind::IngressRouteRulesNotAffected => {
                ("IST0140", "IngressRouteRulesNotAffected", Warning)
            }
            MessageKind::JwtClaimBasedRoutingWithoutRequestAuthN => {
                ("IST0149", "JwtClaimBasedRoutingWithoutRequestAuthN", Error)
            }
            MessageKind::ReferencedInternalGateway => {
                ("IST0165", "ReferencedInternalGateway", Warning)
            }
            MessageKind::DestinationRuleSubsetNotSelectPods => {
                ("IST0173", "DestinationRuleSubsetNotSelectPods", Error)
            }
            MessageKind::UnknownDestinationRuleHost => {
                ("IST0174", "UnknownDestinationRuleHost", Warning)
            }
        }
    }
}

/// The object a message is about, as istioctl names it, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `file:line`: the offending field's line when known, else the object's first line.
    pub reference: Option<String>,
}

impl Resource {
    /// `VirtualService shop/reviews`, or `VirtualService reviews` without a namespace.
    pub fn friendly_name(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: MessageKind,
    pub resource: Resource,
    pub text: String,
}

impl Message {
    /// A message about `object`, pointing at the field at `path` when it has a line.
    pub fn about(object: &KubeObject, path: Option<&str>, kind: MessageKind, text: String) -> Self {
        let reference = object.source().map(|source| {
            let line = path
                .and_then(|p| object.field_line(p))
                .unwrap_or(source.line);
            format!("{}:{line}", source.file)
        });
        Message {
            kind,
            resource: Resource {
                kind: object.kind().to_owned(),
                namespace: object.namespace().to_owned(),
                name: object.name().to_owned(),
                reference,
            },
            text,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn level(&self) -> Level {
        self.kind.level()
    }

    /// ` (VirtualService shop/reviews file.yaml:12)`, as istioctl prints the origin.
    fn origin(&self) -> String {
        match &self.resource.reference {
            Some(reference) => format!(" ({} {reference})", self.resource.friendly_name()),
            None => format!(" ({})", self.resource.friendly_name()),
        }
    }

    /// istioctl's log line: `Error [IST0101] (VirtualService shop/reviews) Referenced …`.
    pub fn render(&self) -> String {
        format!(
            "{} [{}]{} {}",
            self.level(),
            self.code(),
            self.origin(),
            self.text
        )
    }

    /// istioctl's JSON object for the message.
    pub fn to_json(&self) -> Value {
        let mut object = json!({
            "code": self.code(),
            "documentationUrl": format!("{DOCS}/{}/", self.code().to_lowercase()),
            "level": self.level().name(),
            "message": self.text,
            "origin": self.resource.friendly_name(),
        });
        if let (Some(reference), Some(map)) = (&self.resource.reference, object.as_object_mut()) {
            map.insert("reference".into(), Value::String(reference.clone()));
        }
        object
    }
}

/// istioctl's order: level, code, resource, then the whole line; identical lines once.
pub fn sort_and_dedupe(messages: &mut Vec<Message>) {
    messages.sort_by(|a, b| {
        a.level()
            .cmp(&b.level())
            .then_with(|| a.code().cmp(b.code()))
            .then_with(|| a.resource.friendly_name().cmp(&b.resource.friendly_name()))
            .then_with(|| a.render().cmp(&b.render()))
            .then(Ordering::Equal)
    });
    messages.dedup_by(|b, a| a.render() == b.render());
}

/// Go's `%q`: a double-quoted string with backslash escapes.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` of a slice: `[a b c]`.
pub fn go_list<T: fmt::Display>(values: &[T]) -> String {
    let inner: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("[{}]", inner.join(" "))
}

/// The wording of each message, as istioctl's templates have it.
pub mod text {
    use super::{go_list, go_quote};

    pub fn referenced_resource_not_found(what: &str, value: &str) -> String {
        format!("Referenced {what} not found: {}", go_quote(value))
    }

    pub fn conflicting_mesh_gateway_hosts(virtual_services: &str, host: &str) -> String {
        format!(
            "The VirtualServices {virtual_services} associated with mesh gateway define the same host {host} \
             which can lead to undefined behavior. This can be fixed by merging the conflicting \
             VirtualServices into a single resource."
        )
    }

    pub fn port_selector_required(host: &str, ports: &[u64]) -> String {
        format!(
            "This VirtualService routes to a service {} that exposes multiple ports {}. \
             Specifying a port in the destination is required to disambiguate.",
            go_quote(host),
            go_list(ports)
        )
    }

    pub fn no_ca_destination_level(rule: &str, namespace: &str, mode: &str, host: &str) -> String {
        format!(
            "DestinationRule {rule} in namespace {namespace} has TLS mode set to {mode} but no \
             caCertificates are set to validate server identity for host: {host}"
        )
    }

    pub fn no_ca_port_level(
        rule: &str,
        namespace: &str,
        mode: &str,
        host: &str,
        port: &str,
    ) -> String {
        format!(
            "DestinationRule {rule} in namespace {namespace} has TLS mode set to {mode} but no \
             caCertificates are set to validate server identity for host: {host} at port {port}"
        )
    }

    pub fn unreachable_rule(rule: &str, reason: &str) -> String {
        format!("VirtualService rule {rule} not used ({reason}).")
    }

    pub fn ineffective_match(rule: &str, matched: &str, earlier: &str) -> String {
        format!(
            "VirtualService rule {rule} match {matched} is not used (duplicate/overlapping match in rule {earlier})."
        )
    }

    pub fn host_not_found_in_gateway(
        hosts: &[String],
        virtual_service: &str,
        gateway: &str,
    ) -> String {
        format!(
            "one or more host {} defined in VirtualService {virtual_service} not found in Gateway {gateway}.",
            go_list(hosts)
        )
    }

    pub fn ingress_route_rules_not_affected(with_subset: &str, bound: &str) -> String {
        format!("Subset in virtual service {with_subset} has no effect on ingress gateway {bound} requests")
    }

    pub fn jwt_claim_route_without_authn(key: &str, gateway: &str, pod: &str) -> String {
        format!(
            "The virtual service uses the JWT claim based routing (key: {key}) but found no request \
             authentication for the gateway ({gateway}) pod ({pod}). The request authentication must \
             first be applied for the gateway pods to validate the JWT token and make the claims \
             available for routing."
        )
    }

    pub fn referenced_internal_gateway(virtual_service: &str, gateway: &str) -> String {
        format!(
            "Gateway reference in VirtualService {virtual_service} is to an implementation-generated \
             internal Gateway: {gateway}."
        )
    }

    pub fn subset_selects_no_pods(subset: &str) -> String {
        format!(
            "The Subset {subset} defined in the DestinationRule does not select any pods. Which may \
             lead to 503 UH (NoHealthyUpstream)."
        )
    }

    pub fn unknown_destination_rule_host(host: &str) -> String {
        format!("The host {host} defined in the DestinationRule does not match any services in the mesh.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: MessageKind, namespace: &str, name: &str, text: &str) -> Message {
        Message {
            kind,
            resource: Resource {
                kind: "VirtualService".into(),
                namespace: namespace.into(),
                name: name.into(),
                reference: None,
            },
            text: text.into(),
        }
    }

    #[test]
    fn a_message_prints_as_istioctl_prints_it() {
        let m = message(
            MessageKind::ReferencedResourceNotFound,
            "default",
            "reviews-bogussubset",
            &text::referenced_resource_not_found("host+subset in destinationrule", "reviews+bogus"),
        );
        assert_eq!(
            m.render(),
            "Error [IST0101] (VirtualService default/reviews-bogussubset) Referenced host+subset in destinationrule not found: \"reviews+bogus\""
        );
        let json = m.to_json();
        assert_eq!(json["origin"], "VirtualService default/reviews-bogussubset");
        assert_eq!(json["level"], "Error");
        assert_eq!(
            json["documentationUrl"],
            "https://istio.io/latest/docs/reference/config/analysis/ist0101/"
        );
    }

    #[test]
    fn the_reference_follows_the_name_inside_the_parentheses() {
        let mut m = message(MessageKind::VirtualServiceIneffectiveMatch, "", "a", "t");
        m.resource.reference = Some("vs.yaml:7".into());
        assert_eq!(m.render(), "Info [IST0131] (VirtualService a vs.yaml:7) t");
        assert_eq!(m.to_json()["reference"], "vs.yaml:7");
    }

    #[test]
    fn messages_sort_by_level_then_code_and_identical_lines_appear_once() {
        let mut messages = vec![
            message(MessageKind::VirtualServiceIneffectiveMatch, "a", "x", "t"),
            message(MessageKind::VirtualServiceUnreachableRule, "a", "x", "t"),
            message(MessageKind::ReferencedResourceNotFound, "b", "y", "t"),
            message(MessageKind::ReferencedResourceNotFound, "b", "y", "t"),
            message(MessageKind::ReferencedResourceNotFound, "a", "y", "t"),
        ];
        sort_and_dedupe(&mut messages);
        let lines: Vec<String> = messages.iter().map(Message::render).collect();
        assert_eq!(
            lines,
            [
                "Error [IST0101] (VirtualService a/y) t",
                "Error [IST0101] (VirtualService b/y) t",
                "Warning [IST0130] (VirtualService a/x) t",
                "Info [IST0131] (VirtualService a/x) t",
            ]
        );
    }

    #[test]
    fn go_formatting_of_quotes_and_lists() {
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(go_list(&[80u64, 443]), "[80 443]");
        assert_eq!(go_list::<String>(&[]), "[]");
    }

    #[test]
    fn every_code_is_unique_and_found_again() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::from_code(kind.code()), Some(kind));
        }
    }
}
