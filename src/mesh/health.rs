//! Health from error rates, with Kiali's default thresholds (configurable).

use serde::Deserialize;

use super::traffic::ErrorSplit;

/// Ordered from best to worst so that `max` gives the worse of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Health {
    /// No requests in the window: nothing to judge.
    #[default]
    NoTraffic,
    Healthy,
    Degraded,
    Failure,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::NoTraffic => "no traffic",
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Failure => "failure",
        }
    }
}

/// Error-rate thresholds in percent. A rate strictly above a `degraded` threshold degrades;
/// a rate at or above a `failure` threshold fails (Kiali's semantics).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthThresholds {
    /// 5xx and no-response share above which an edge or node is degraded (Kiali: 0 %).
    pub server_error_degraded_pct: f64,
    /// 5xx and no-response share at which it fails (Kiali: 10 %).
    pub server_error_failure_pct: f64,
    /// 4xx share above which it is degraded (Kiali: 10 %).
    pub client_error_degraded_pct: f64,
    /// 4xx share at which it fails (Kiali: 20 %).
    pub client_error_failure_pct: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            server_error_degraded_pct: 0.0,
            server_error_failure_pct: 10.0,
            client_error_degraded_pct: 10.0,
            client_error_failure_pct: 20.0,
        }
    }
}

impl HealthThresholds {
    /// Health of a set of requests.
    pub fn judge(&self, requests: &ErrorSplit) -> Health {
        if requests.total <= 0.0 {
            return Health::NoTraffic;
        }
        let server = requests.server_error_pct();
        let client = requests.client_error_pct();
        let by_server = classify(
            server,
            self.server_error_degraded_pct,
            self.server_error_failure_pct,
        );
        let by_client = classify(
            client,
            self.client_error_degraded_pct,
            self.client_error_failure_pct,
        );
        by_server.max(by_client)
    }

    /// Thresholds must be percentages with `degraded` not above `failure`.
    pub fn validate(&self) -> Result<(), String> {
        let pairs = [
            (
                "server_error",
                self.server_error_degraded_pct,
                self.server_error_failure_pct,
            ),
            (
                "client_error",
                self.client_error_degraded_pct,
                self.client_error_failure_pct,
            ),
        ];
        for (name, degraded, failure) in pairs {
            for value in [degraded, failure] {
                if !(0.0..=100.0).contains(&value) {
                    return Err(format!(
                        "{name} thresholds must be between 0 and 100, got {value}"
                    ));
                }
            }
            if degraded > failure {
                return Err(format!(
                    "{name}_degraded_pct ({degraded}) must not exceed {name}_failure_pct ({failure})"
                ));
            }
        }
        Ok(())
    }
}

fn classify(pct: f64, degraded: f64, failure: f64) -> Health {
    if pct >= failure && pct > 0.0 {
        Health::Failure
    } else if pct > degraded {
        Health::Degraded
    } else {
        Health::Healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(total: f64, c4: f64, c5: f64, nr: f64) -> ErrorSplit {
        ErrorSplit {
            total,
            client_4xx: c4,
            server_5xx: c5,
            no_response: nr,
            ..Default::default()
        }
    }

    #[test]
    fn kiali_default_thresholds_table() {
        let t = HealthThresholds::default();
        let cases = [
            ("no requests", split(0.0, 0.0, 0.0, 0.0), Health::NoTraffic),
            ("all ok", split(100.0, 0.0, 0.0, 0.0), Health::Healthy),
            (
                "any 5xx degrades",
                split(1000.0, 0.0, 0.1, 0.0),
                Health::Degraded,
            ),
            (
                "no response counts as 5xx",
                split(100.0, 0.0, 0.0, 1.0),
                Health::Degraded,
            ),
            (
                "9.9 % 5xx is still degraded",
                split(1000.0, 0.0, 99.0, 0.0),
                Health::Degraded,
            ),
            (
                "10 % 5xx fails",
                split(100.0, 0.0, 10.0, 0.0),
                Health::Failure,
            ),
            (
                "5xx plus no response reach 10 %",
                split(100.0, 0.0, 6.0, 4.0),
                Health::Failure,
            ),
            (
                "10 % 4xx is healthy",
                split(100.0, 10.0, 0.0, 0.0),
                Health::Healthy,
            ),
            (
                "10.5 % 4xx degrades",
                split(1000.0, 105.0, 0.0, 0.0),
                Health::Degraded,
            ),
            (
                "20 % 4xx fails",
                split(100.0, 20.0, 0.0, 0.0),
                Health::Failure,
            ),
        ];
        for (name, requests, expected) in cases {
            assert_eq!(t.judge(&requests), expected, "{name}");
        }
    }

    #[test]
    fn custom_thresholds_move_the_boundaries() {
        let t = HealthThresholds {
            server_error_degraded_pct: 1.0,
            server_error_failure_pct: 5.0,
            ..Default::default()
        };
        assert_eq!(t.judge(&split(100.0, 0.0, 1.0, 0.0)), Health::Healthy);
        assert_eq!(t.judge(&split(100.0, 0.0, 2.0, 0.0)), Health::Degraded);
        assert_eq!(t.judge(&split(100.0, 0.0, 5.0, 0.0)), Health::Failure);
    }

    #[test]
    fn thresholds_out_of_order_are_refused() {
        let t = HealthThresholds {
            client_error_degraded_pct: 30.0,
            ..Default::default()
        };
        assert!(t
            .validate()
            .unwrap_err()
            .contains("client_error_degraded_pct"));
        assert!(HealthThresholds::default().validate().is_ok());
    }
}
