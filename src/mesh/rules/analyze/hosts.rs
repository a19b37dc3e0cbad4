//! Host names as Istio's analyzers treat them: short names made fully qualified in the
//! rule's namespace, wildcard matching, export scopes, and the registry of services
//! (Kubernetes Services and ServiceEntry hosts) that destinations are looked up in.

use std::collections::BTreeMap;

use serde_json::Value;

use super::snapshot::{Kind, Snapshot};
use crate::mesh::rules::object::{field, items, number, str_of, string_map, strings};

pub const CLUSTER_DOMAIN: &str = "svc.cluster.local";
/// Visible in every namespace (`exportTo: ["*"]`).
pub const ALL_NAMESPACES: &str = "*";
/// Visible in the object's own namespace (`exportTo: ["."]`).
pub const OWN_NAMESPACE: &str = ".";
pub const MESH_GATEWAY: &str = "mesh";
const EXPORT_TO_ANNOTATION: &str = "networking.istio.io/exportTo";

/// `reviews` in `shop` is `reviews.shop.svc.cluster.local`; names with a dot and
/// wildcards are left alone.
pub fn to_fqdn(namespace: &str, host: &str) -> String {
    if host.starts_with('*') || host.contains('.') {
        host.to_owned()
    } else {
        format!("{host}.{namespace}.{CLUSTER_DOMAIN}")
    }
}

/// `scope/fqdn`: a host as seen from the namespaces `scope` names (`*` for all).
pub fn scoped_fqdn(scope: &str, namespace: &str, host: &str) -> String {
    format!("{scope}/{}", to_fqdn(namespace, host))
}

pub fn split_scoped(scoped: &str) -> (&str, &str) {
    scoped.split_once('/').unwrap_or(("", scoped))
}

/// `(namespace, name)` of a `name.namespace.svc.cluster.local` host.
pub fn parse_cluster_fqdn(host: &str) -> Option<(&str, &str)> {
    let prefix = host.strip_suffix(CLUSTER_DOMAIN)?.strip_suffix('.')?;
    let (name, namespace) = prefix.rsplit_once('.')?;
    (!name.is_empty() && !namespace.is_empty()).then_some((namespace, name))
}

/// The `(namespace, name)` a destination host stands for: parsed from a cluster FQDN, or
/// the whole host in the rule's namespace.
pub fn resource_name_from_host(default_namespace: &str, host: &str) -> (String, String) {
    match parse_cluster_fqdn(host) {
        Some((namespace, name)) => (namespace.to_owned(), name.to_owned()),
        None => (default_namespace.to_owned(), host.to_owned()),
    }
}

/// Whether two host names overlap, wildcards (`*.foo.com`, `*`) included.
pub fn hosts_match(a: &str, b: &str) -> bool {
    let (a_wild, b_wild) = (a.starts_with('*'), b.starts_with('*'));
    match (a_wild, b_wild) {
        (true, true) => {
            if a.len() < b.len() {
                b[1..].ends_with(&a[1..])
            } else {
                a[1..].ends_with(&b[1..])
            }
        }
        (true, false) => b.ends_with(&a[1..]),
        (false, true) => a.ends_with(&b[1..]),
        (false, false) => a == b,
    }
}

/// The hosts visible from `namespace` out of `ns/host`, `*/host` and bare `host` entries,
/// with the namespace part removed.
pub fn hosts_for_namespace(hosts: &[String], namespace: &str) -> Vec<String> {
    hosts
        .iter()
        .filter_map(
            |host| match host.split('/').collect::<Vec<_>>().as_slice() {
                [only] => Some((*only).to_owned()),
                [scope, name, ..] if *scope == namespace || *scope == ALL_NAMESPACES => {
                    Some((*name).to_owned())
                }
                _ => None,
            },
        )
        .collect()
}

/// No `exportTo`, or one naming `*`.
pub fn exported_to_all(export_to: &[String]) -> bool {
    export_to.is_empty() || export_to.iter().any(|e| e == ALL_NAMESPACES)
}

pub fn export_to(object_spec: &Value) -> Vec<String> {
    strings(field(object_spec, "exportTo"))
}

/// What a destination resolves to: a ServiceEntry or a Service seen as one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownService {
    pub ports: Vec<u64>,
    pub workload_labels: BTreeMap<String, String>,
}

/// Every known host by scoped FQDN, as Istio's `InitServiceEntryHostMap` builds it: one
/// entry per namespace the ServiceEntry or Service is exported to (`*` for all).
#[derive(Debug, Default)]
pub struct ServiceRegistry {
    hosts: BTreeMap<String, KnownService>,
}

impl ServiceRegistry {
    pub fn new(snapshot: &Snapshot) -> Self {
        let mut hosts = BTreeMap::new();
        for entry in snapshot.of_kind(Kind::ServiceEntry) {
            let spec = entry.spec();
            let namespace = entry.namespace();
            let exported = export_to(spec);
            let scopes: Vec<&str> = if exported_to_all(&exported) {
                vec![ALL_NAMESPACES]
            } else {
                exported
                    .iter()
                    .map(|e| {
                        if e == OWN_NAMESPACE {
                            namespace
                        } else {
                            e.as_str()
                        }
                    })
                    .collect()
            };
            let known = KnownService {
                ports: items(field(spec, "ports"))
                    .iter()
                    .map(|p| number(field(p, "number")).unwrap_or(0))
                    .collect(),
                workload_labels: string_map(field(field(spec, "workloadSelector"), "labels")),
            };
            for scope in scopes {
                for host in strings(field(spec, "hosts")) {
                    hosts.insert(scoped_fqdn(scope, namespace, &host), known.clone());
                }
            }
        }
        for service in snapshot.of_kind(Kind::Service) {
            let namespace = service.namespace();
            let known = KnownService {
                ports: items(field(service.spec(), "ports"))
                    .iter()
                    .map(|p| number(field(p, "port")).unwrap_or(0))
                    .collect(),
                workload_labels: BTreeMap::new(),
            };
            let scopes: Vec<String> = match service.annotation(EXPORT_TO_ANNOTATION) {
                None | Some("") => vec![ALL_NAMESPACES.to_owned()],
                Some(list) => list
                    .split(',')
                    .map(|s| {
                        if s == OWN_NAMESPACE {
                            namespace.to_owned()
                        } else {
                            s.to_owned()
                        }
                    })
                    .collect(),
            };
            for scope in scopes {
                hosts.insert(
                    scoped_fqdn(&scope, namespace, service.name()),
                    known.clone(),
                );
            }
        }
        ServiceRegistry { hosts }
    }

    /// The service `host` means to a rule in `namespace` exported to `export_to`: exact
    /// names first (exported everywhere, then to the rule's scopes), then wildcard entries.
    pub fn lookup(
        &self,
        namespace: &str,
        export_to: &[String],
        host: &str,
    ) -> Option<&KnownService> {
        if let Some(found) = self
            .hosts
            .get(&scoped_fqdn(ALL_NAMESPACES, namespace, host))
        {
            return Some(found);
        }
        let scopes: Vec<&str> = if export_to.is_empty() {
            vec![namespace]
        } else {
            export_to
                .iter()
                .map(|e| {
                    if e == OWN_NAMESPACE {
                        namespace
                    } else {
                        e.as_str()
                    }
                })
                .collect()
        };
        for scope in scopes {
            if let Some(found) = self.hosts.get(&scoped_fqdn(scope, namespace, host)) {
                return Some(found);
            }
        }
        let host = host.strip_prefix('*').unwrap_or(host);
        self.hosts.iter().find_map(|(scoped, known)| {
            let (scope, entry_host) = split_scoped(scoped);
            let suffix = entry_host.strip_prefix('*')?;
            let visible = scope == ALL_NAMESPACES || scope == namespace;
            (visible && host.ends_with(suffix)).then_some(known)
        })
    }
}

/// `str_of` for a field of an object value.
pub fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    str_of(field(value, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_qualified_in_the_rules_namespace() {
        let cases = [
            (
                "short name",
                "shop",
                "reviews",
                "reviews.shop.svc.cluster.local",
            ),
            ("dotted name", "shop", "reviews.other", "reviews.other"),
            ("wildcard", "shop", "*", "*"),
            ("no namespace", "", "reviews", "reviews..svc.cluster.local"),
        ];
        for (name, ns, host, want) in cases {
            assert_eq!(to_fqdn(ns, host), want, "{name}");
        }
    }

    #[test]
    fn cluster_hosts_name_their_namespace_and_others_stay_whole() {
        assert_eq!(
            resource_name_from_host("x", "reviews.shop.svc.cluster.local"),
            ("shop".into(), "reviews".into())
        );
        assert_eq!(
            resource_name_from_host("x", "a.b.shop.svc.cluster.local"),
            ("shop".into(), "a.b".into()),
            "the namespace is the last label before the domain"
        );
        assert_eq!(
            resource_name_from_host("x", "reviews.eu.example.com"),
            ("x".into(), "reviews.eu.example.com".into())
        );
    }

    #[test]
    fn wildcards_match_both_ways() {
        let cases = [
            ("equal", "foo.com", "foo.com", true),
            ("different", "foo.com", "bar.com", false),
            ("wildcard covers", "*.com", "foo.com", true),
            ("covered by wildcard", "bar.com", "*.com", true),
            ("wildcard is not its apex", "*.foo.com", "foo.com", false),
            ("star covers all", "*", "*.com", true),
            ("two wildcards", "*.a.com", "*.com", true),
        ];
        for (name, a, b, want) in cases {
            assert_eq!(hosts_match(a, b), want, "{name}");
        }
    }

    #[test]
    fn gateway_hosts_visible_from_a_namespace() {
        let hosts: Vec<String> = ["ns1/foo.com", "*/bar.com", "baz.com", "ns2/qux.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            hosts_for_namespace(&hosts, "ns1"),
            ["foo.com", "bar.com", "baz.com"]
        );
    }
}
