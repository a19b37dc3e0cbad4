//! Outlier detection as Envoy does it, on shares: a version whose attempts fail with a 5xx
//! (a timeout counts as 504) `consecutive5xxErrors` times in a row has its pods ejected
//! for `baseEjectionTime` times the number of ejections so far (at most 300 s), never more
//! than `maxEjectionPercent` of the service's pods (but always at least one). Ejected pods
//! return at the first `interval` sweep after their time is up.
//!
//! The demo counts no single requests: it ejects once the attempts since the last sweep
//! would, on average, hold at least one run of that many failures. The pods of one version
//! fail alike, so they are ejected together, as far as the maximum allows.

use super::model::MeshModel;
use super::routing::OutlierDetection;

/// Envoy's `max_ejection_time` default.
const MAX_EJECTION_S: f64 = 300.0;

#[derive(Debug, Clone, Default, PartialEq)]
struct Host {
    until_s: f64,
    ejections: u32,
    attempts: f64,
    failures: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Ejections {
    /// Per workload of the model: its pods ejected now.
    ejected: Vec<u32>,
    hosts: Vec<Host>,
    /// Per service: when its hosts were last swept.
    last_sweep_s: Vec<Option<f64>>,
}

/// Expected runs of `k` failures in `n` attempts that each fail with chance `p`.
fn expected_runs(n: f64, p: f64, k: u32) -> f64 {
    let k_f = f64::from(k);
    if n < k_f || p <= 0.0 {
        return 0.0;
    }
    let p_k = p.powi(i32::try_from(k).unwrap_or(i32::MAX));
    // A run at the very start, or after any of the other attempts that succeeded.
    p_k * (1.0 + (n - k_f) * (1.0 - p))
}

impl Ejections {
    pub fn new(model: &MeshModel) -> Self {
        Ejections {
            ejected: vec![0; model.workloads.len()],
            hosts: vec![Host::default(); model.workloads.len()],
            last_sweep_s: vec![None; model.services.len()],
        }
    }

    /// Pods ejected now, per workload of the model.
    pub fn ejected(&self) -> &[u32] {
        &self.ejected
    }

    /// Attempts a workload served this step, and how many failed with a 5xx or timeout.
    pub fn record(&mut self, workload: usize, attempts: f64, failures: f64) {
        if let Some(host) = self.hosts.get_mut(workload) {
            host.attempts += attempts;
            host.failures += failures;
        }
    }

    /// Ejects and returns hosts at the end of a step; `true` when any changed.
    pub fn update(
        &mut self,
        model: &MeshModel,
        detection: impl Fn(usize) -> Option<OutlierDetection>,
        now_s: f64,
    ) -> bool {
        let mut changed = false;
        for (service, spec) in model.services.iter().enumerate() {
            let Some(od) = detection(service) else {
                for &w in &spec.backends {
                    changed |= self.release(w);
                }
                if let Some(sweep) = self.last_sweep_s.get_mut(service) {
                    *sweep = None;
                }
                continue;
            };
            changed |= self.eject(model, &spec.backends, &od, now_s);
            let last = self.last_sweep_s.get(service).copied().flatten();
            let Some(last) = last else {
                if let Some(sweep) = self.last_sweep_s.get_mut(service) {
                    *sweep = Some(now_s);
                }
                continue;
            };
            if now_s - last + 1e-9 >= od.interval_s {
                changed |= self.sweep(&spec.backends, now_s);
                if let Some(sweep) = self.last_sweep_s.get_mut(service) {
                    *sweep = Some(now_s);
                }
            }
        }
        changed
    }

    fn eject(
        &mut self,
        model: &MeshModel,
        backends: &[usize],
        od: &OutlierDetection,
        now_s: f64,
    ) -> bool {
        if od.consecutive_5xx == 0 {
            return false;
        }
        let ready = |w: usize| model.workloads.get(w).map_or(0, |spec| spec.pods_ready);
        let total: u32 = backends.iter().map(|&w| ready(w)).sum();
        let allowed = ((od.max_ejection_percent / 100.0 * f64::from(total)).floor() as u32).max(1);
        let mut ejected_now: u32 = backends
            .iter()
            .map(|&w| self.ejected.get(w).copied().unwrap_or(0))
            .sum();
        let mut changed = false;
        for &w in backends {
            let (Some(host), Some(ejected)) = (self.hosts.get_mut(w), self.ejected.get_mut(w))
            else {
                continue;
            };
            if *ejected >= ready(w) || host.attempts <= 0.0 {
                continue;
            }
            let p = (host.failures / host.attempts).clamp(0.0, 1.0);
            if expected_runs(host.attempts, p, od.consecutive_5xx) < 1.0 {
                continue;
            }
            let count = (ready(w) - *ejected).min(allowed.saturating_sub(ejected_now));
            if count == 0 {
                continue;
            }
            *ejected += count;
            ejected_now += count;
            host.ejections += 1;
            host.until_s =
                now_s + (od.base_ejection_s * f64::from(host.ejections)).min(MAX_EJECTION_S);
            host.attempts = 0.0;
            host.failures = 0.0;
            changed = true;
        }
        changed
    }

    /// Returns hosts whose time is up; a host that stayed in counts one ejection less.
    fn sweep(&mut self, backends: &[usize], now_s: f64) -> bool {
        let mut changed = false;
        for &w in backends {
            let (Some(host), Some(ejected)) = (self.hosts.get_mut(w), self.ejected.get_mut(w))
            else {
                continue;
            };
            if *ejected > 0 && now_s + 1e-9 >= host.until_s {
                *ejected = 0;
                changed = true;
            } else if *ejected == 0 {
                host.ejections = host.ejections.saturating_sub(1);
            }
            host.attempts = 0.0;
            host.failures = 0.0;
        }
        changed
    }

    fn release(&mut self, workload: usize) -> bool {
        if let Some(host) = self.hosts.get_mut(workload) {
            *host = Host::default();
        }
        match self.ejected.get_mut(workload) {
            Some(ejected) if *ejected > 0 => {
                *ejected = 0;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_failures_are_likely_only_when_most_attempts_fail() {
        assert!(expected_runs(70.0, 1.0, 5) >= 1.0);
        assert!(expected_runs(70.0, 0.6, 5) >= 1.0);
        assert!(expected_runs(70.0, 0.04, 5) < 1e-3);
        assert_eq!(expected_runs(3.0, 1.0, 5), 0.0);
    }
}
