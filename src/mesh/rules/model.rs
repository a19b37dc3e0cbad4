//! What a user asks for in a rule form, before it becomes Istio objects.

use std::collections::BTreeMap;

/// The service a rule is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    /// The Kubernetes Service's name, e.g. `reviews`.
    pub service: String,
}

impl Target {
    /// The host Istio routes, e.g. `reviews.bookinfo.svc.cluster.local`.
    pub fn host(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.service, self.namespace)
    }

    /// Whether a VirtualService or DestinationRule host written in `object_namespace`
    /// names this service (short name, `name.namespace`, or fully qualified).
    pub fn is_named_by(&self, host: &str, object_namespace: &str) -> bool {
        let host = host.trim_end_matches('.');
        host == self.host()
            || host == format!("{}.{}", self.service, self.namespace)
            || host == format!("{}.{}.svc", self.service, self.namespace)
            || (host == self.service && object_namespace == self.namespace)
    }
}

/// One version of a service: the DestinationRule subset that selects its pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The subset's name, the version itself (`v1`).
    pub name: String,
    /// The pod labels that select it, e.g. `version: v1`.
    pub labels: BTreeMap<String, String>,
}

/// The pod labels a version is read from, in Kiali's order: the first one a pod has names
/// its version, and is the label its subset selects on.
pub const VERSION_LABELS: [&str; 3] = [
    "service.istio.io/canonical-revision",
    "app.kubernetes.io/version",
    "version",
];

impl Version {
    pub fn new(name: &str, label: &str) -> Self {
        Version {
            name: name.to_owned(),
            labels: BTreeMap::from([(label.to_owned(), name.to_owned())]),
        }
    }

    /// The version a pod with these labels belongs to, by the first of [`VERSION_LABELS`]
    /// it carries with a value.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Option<Self> {
        VERSION_LABELS.iter().find_map(|label| {
            let value = labels.get(*label).filter(|v| !v.is_empty())?;
            Some(Version::new(value, label))
        })
    }
}

/// A weight per version, in percent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    pub weights: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMatch {
    Exact,
    Prefix,
    Regex,
}

impl StringMatch {
    pub fn key(self) -> &'static str {
        match self {
            StringMatch::Exact => "exact",
            StringMatch::Prefix => "prefix",
            StringMatch::Regex => "regex",
        }
    }
}

/// Which requests a canary rule or a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestMatch {
    Header {
        name: String,
        how: StringMatch,
        value: String,
    },
    /// A cookie with exactly this value.
    Cookie { name: String, value: String },
    /// Every request; only allowed as the last canary rule.
    Any,
}

/// Requests matching `matcher` go to `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryRule {
    pub matcher: RequestMatch,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    /// Tried in order; the first that matches routes the request.
    pub rules: Vec<CanaryRule>,
    /// Everyone else.
    pub split: Split,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delay {
    /// A Go duration, e.g. `2s`.
    pub fixed: String,
    pub percent: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Abort {
    pub http_status: u16,
    pub percent: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub delay: Option<Delay>,
    pub abort: Option<Abort>,
    /// Only requests that match; `None`: all of them.
    pub only: Option<RequestMatch>,
}

/// Connection pool limits and outlier detection; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Breaker {
    pub max_connections: Option<u32>,
    pub max_pending_requests: Option<u32>,
    pub max_requests_per_connection: Option<u32>,
    pub consecutive_5xx_errors: Option<u32>,
    pub interval: Option<String>,
    pub base_ejection_time: Option<String>,
    pub max_ejection_percent: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub timeout: Option<String>,
    pub attempts: Option<u32>,
    pub per_try_timeout: Option<String>,
    /// Envoy retry conditions, e.g. `5xx`, `connect-failure`.
    pub retry_on: Vec<String>,
}

/// One change a form asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleChange {
    Shift(Split),
    Canary(Canary),
    Fault(Fault),
    Breaker(Breaker),
    Timeouts(Timeouts),
    /// Remove the routing meshtui manages for the service.
    Reset,
    /// Make the namespace's proxies label request metrics with the operation (a
    /// Telemetry resource); namespace-wide, so the target's service is not used.
    ReportOperations {
        label: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_read_from_the_first_of_kialis_labels_a_pod_has() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let cases = [
            (
                "version alone",
                labels(&[("version", "v1")]),
                Some(("v1", "version")),
            ),
            (
                "canonical revision first",
                labels(&[
                    ("version", "v1"),
                    ("service.istio.io/canonical-revision", "rev-2"),
                ]),
                Some(("rev-2", "service.istio.io/canonical-revision")),
            ),
            (
                "app.kubernetes.io/version before version",
                labels(&[("version", "v1"), ("app.kubernetes.io/version", "1.4")]),
                Some(("1.4", "app.kubernetes.io/version")),
            ),
            (
                "an empty label is skipped",
                labels(&[("app.kubernetes.io/version", ""), ("version", "v3")]),
                Some(("v3", "version")),
            ),
            ("no version label", labels(&[("app", "reviews")]), None),
        ];
        for (name, labels, want) in cases {
            let want = want.map(|(value, label)| Version::new(value, label));
            assert_eq!(Version::from_labels(&labels), want, "{name}");
        }
    }
}
