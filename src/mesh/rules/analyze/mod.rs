//! istioctl's VirtualService and DestinationRule analyzers, rewritten from their observed
//! behaviour (Istio 86c9f01): the same message codes, wording, levels and resources.
//! Pure: objects in, messages out.

pub mod destinationrule;
pub mod hosts;
pub mod message;
pub mod selector;
pub mod snapshot;
pub mod virtualservice;

pub use message::{Level, Message, MessageKind, Resource};
pub use snapshot::ISTIO_NAMESPACE;

use crate::mesh::rules::object::KubeObject;
use snapshot::Snapshot;

/// One analyzer, named as istioctl names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analyzer {
    ConflictingMeshGatewayHosts,
    DestinationHost,
    DestinationRule,
    Gateway,
    JwtClaimRoute,
    VirtualServiceValidation,
    CaCertificate,
    SubsetSelectPod,
}

impl Analyzer {
    pub const ALL: [Analyzer; 8] = [
        Analyzer::ConflictingMeshGatewayHosts,
        Analyzer::DestinationHost,
        Analyzer::DestinationRule,
        Analyzer::Gateway,
        Analyzer::JwtClaimRoute,
        Analyzer::VirtualServiceValidation,
        Analyzer::CaCertificate,
        Analyzer::SubsetSelectPod,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Analyzer::ConflictingMeshGatewayHosts => {
                "virtualservice.ConflictingMeshGatewayHostsAnalyzer"
            }
            Analyzer::DestinationHost => "virtualservice.DestinationHostAnalyzer",
            Analyzer::DestinationRule => "virtualservice.DestinationRuleAnalyzer",
            Analyzer::Gateway => "virtualservice.GatewayAnalyzer",
            Analyzer::JwtClaimRoute => "virtualservice.JWTClaimRouteAnalyzer",
            Analyzer::VirtualServiceValidation => "schema.ValidationAnalyzer.VirtualService",
            Analyzer::CaCertificate => "destinationrule.CaCertificateAnalyzer",
            Analyzer::SubsetSelectPod => "destinationrule.SubsetSelectPodAnalyzer",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Analyzer::ConflictingMeshGatewayHosts => {
                "Checks if multiple virtual services associated with the mesh gateway have conflicting hosts"
            }
            Analyzer::DestinationHost => {
                "Checks the destination hosts associated with each virtual service"
            }
            Analyzer::DestinationRule => {
                "Checks the destination rules associated with each virtual service"
            }
            Analyzer::Gateway => "Checks the gateways associated with each virtual service",
            Analyzer::JwtClaimRoute => {
                "Checks the VirtualService using JWT claim based routing has corresponding RequestAuthentication"
            }
            Analyzer::VirtualServiceValidation => {
                "Checks for VirtualService rules and matches that can never be used"
            }
            Analyzer::CaCertificate => "Checks if caCertificates is set when TLS mode is SIMPLE/MUTUAL",
            Analyzer::SubsetSelectPod => "Checks if pods are selected by subsets in destination rules",
        }
    }

    /// By istioctl's name; `schema.ValidationAnalyzer (VirtualService)` is accepted too.
    pub fn from_name(name: &str) -> Option<Analyzer> {
        let name = match name.trim() {
            "schema.ValidationAnalyzer (VirtualService)" => {
                "schema.ValidationAnalyzer.VirtualService"
            }
            other => other,
        };
        Analyzer::ALL.into_iter().find(|a| a.name() == name)
    }

    fn run(self, snapshot: &Snapshot, out: &mut Vec<Message>) {
        match self {
            Analyzer::ConflictingMeshGatewayHosts => {
                virtualservice::conflicting_hosts::analyze(snapshot, out)
            }
            Analyzer::DestinationHost => virtualservice::destination_hosts::analyze(snapshot, out),
            Analyzer::DestinationRule => virtualservice::destination_rules::analyze(snapshot, out),
            Analyzer::Gateway => virtualservice::gateways::analyze(snapshot, out),
            Analyzer::JwtClaimRoute => virtualservice::jwt_claim_route::analyze(snapshot, out),
            Analyzer::VirtualServiceValidation => virtualservice::matches::analyze(snapshot, out),
            Analyzer::CaCertificate => destinationrule::ca_certificates::analyze(snapshot, out),
            Analyzer::SubsetSelectPod => destinationrule::subset_pods::analyze(snapshot, out),
        }
    }
}

/// How to run an analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// The analyzers to run; empty runs them all.
    pub analyzers: Vec<Analyzer>,
    /// The namespace of objects that name none (file input); `None` leaves them without.
    pub default_namespace: Option<String>,
    /// Add the control plane istioctl assumes when it reads files only (the default
    /// ingress gateway's Service and pod in this namespace).
    pub builtin_defaults_in: Option<String>,
    /// Report only on objects in these namespaces (and on objects without one); empty
    /// reports on all.
    pub namespaces: Vec<String>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            analyzers: Vec::new(),
            default_namespace: None,
            builtin_defaults_in: Some(ISTIO_NAMESPACE.to_owned()),
            namespaces: Vec::new(),
        }
    }
}

/// Objects whose messages carry this annotation (a comma-separated list of codes, or `*`)
/// are not reported on for those codes.
const SUPPRESS_ANNOTATION: &str = "galley.istio.io/analyze-suppress";

/// Runs the analyzers over `objects` and returns their messages as istioctl lists them:
/// sorted by level, code and resource, identical lines once.
pub fn analyze(objects: Vec<KubeObject>, options: &AnalyzeOptions) -> Vec<Message> {
    let mut all = match &options.builtin_defaults_in {
        Some(namespace) => snapshot::builtin_defaults(namespace),
        None => Vec::new(),
    };
    all.extend(objects);
    let suppressions = suppressions(&all);
    let snapshot = Snapshot::new(all, options.default_namespace.as_deref());
    let analyzers: &[Analyzer] = if options.analyzers.is_empty() {
        &Analyzer::ALL
    } else {
        &options.analyzers
    };
    let mut messages = Vec::new();
    for analyzer in analyzers {
        analyzer.run(&snapshot, &mut messages);
    }
    messages.retain(|m| {
        let namespace = &m.resource.namespace;
        let in_scope = options.namespaces.is_empty()
            || namespace.is_empty()
            || options.namespaces.contains(namespace);
        in_scope && !is_suppressed(m, &suppressions)
    });
    message::sort_and_dedupe(&mut messages);
    messages
}

/// (kind, namespace, name) → the codes suppressed on that object.
type Suppressions = Vec<((String, String, String), Vec<String>)>;

fn suppressions(objects: &[KubeObject]) -> Suppressions {
    objects
        .iter()
        .filter_map(|o| {
            let codes = o.annotation(SUPPRESS_ANNOTATION)?;
            let key = (
                o.kind().to_owned(),
                o.namespace().to_owned(),
                o.name().to_owned(),
            );
            Some((key, codes.split(',').map(|c| c.trim().to_owned()).collect()))
        })
        .collect()
}

fn is_suppressed(message: &Message, suppressions: &Suppressions) -> bool {
    let r = &message.resource;
    suppressions.iter().any(|((kind, namespace, name), codes)| {
        kind == &r.kind
            && name == &r.name
            && (namespace == &r.namespace || namespace.is_empty())
            && codes.iter().any(|c| c == "*" || c == message.code())
    })
}

#[cfg(test)]
mod tests;
