//! How the requests of one route rule end on one version: the arithmetic of timeouts,
//! retries and connection-pool overflow, on shares rather than single requests.
//!
//! Each attempt ends as the route would without rules (success or one of its errors), or is
//! cut by a timeout. An attempt that fails in a way `retryOn` names is tried again, up to
//! `attempts` more times. The client's proxy reports one request with the last attempt's
//! answer; the server's proxy reports every attempt that reached it, and a cut attempt as
//! `0 DC` (its downstream, the client's proxy, hung up), as Envoy does. Approximations: the
//! time a retried request spends on failed attempts is not added to its latency, and the
//! route timeout is checked against one attempt.

/// Per-attempt settings of one stream of requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Fate {
    /// Share of attempts slower than the per-try timeout (tried again when `retry_cut`).
    pub cut_try: f64,
    /// Share of requests slower than the route timeout (never tried again).
    pub cut_total: f64,
    /// Tries after the first.
    pub retries: u32,
    /// Per outcome of the route (success first, then its errors): tried again?
    pub retry_outcome: Vec<bool>,
    pub retry_cut: bool,
}

impl Fate {
    /// Without timeouts or retries: each request ends as its one attempt did.
    pub fn plain(outcomes: usize) -> Self {
        Fate {
            cut_try: 0.0,
            cut_total: 0.0,
            retries: 0,
            retry_outcome: vec![false; outcomes],
            retry_cut: false,
        }
    }
}

/// The fate of a stream once the outcome shares of one step are known.
#[derive(Debug, Clone, Default)]
pub struct Ends {
    /// Attempts per request (1 without retries).
    pub attempts: f64,
    /// Share of requests that still fail after the last try, per failure that is retried
    /// (the chance that all earlier tries failed in a retried way).
    last_try: f64,
    /// Per outcome: share of attempts ending so.
    per_attempt: Vec<f64>,
    cut: f64,
    retried: Vec<bool>,
    retry_cut: bool,
}

/// What ends a request or an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The route's own outcome: success (`None`) or one of its errors.
    Outcome(Option<usize>),
    /// A timeout.
    Cut,
}

impl Fate {
    /// `outcomes`: the route's outcome shares this step, success first; they add up to 1.
    pub fn ends(&self, outcomes: &[f64]) -> Ends {
        let cut = (self.cut_try + self.cut_total).clamp(0.0, 1.0);
        let per_attempt: Vec<f64> = outcomes.iter().map(|share| share * (1.0 - cut)).collect();
        let retried: Vec<bool> = (0..outcomes.len())
            .map(|o| self.retry_outcome.get(o).copied().unwrap_or(false))
            .collect();
        let retry_cut = self.retry_cut && self.cut_total == 0.0;
        let mut failing: f64 = per_attempt
            .iter()
            .zip(&retried)
            .filter(|(_, r)| **r)
            .map(|(share, _)| share)
            .sum();
        if retry_cut {
            failing += cut;
        }
        let failing = failing.clamp(0.0, 1.0);
        // Beyond a hundred tries nothing changes but the time spent adding them up.
        let retries = i32::try_from(self.retries.min(100)).unwrap_or(100);
        let attempts: f64 = (0..=retries).map(|k| failing.powi(k)).sum();
        Ends {
            attempts,
            last_try: failing.powi(retries),
            per_attempt,
            cut,
            retried,
            retry_cut,
        }
    }
}

impl Ends {
    /// Share of requests the client sees end so.
    pub fn request_share(&self, end: End) -> f64 {
        let (per_attempt, retried) = match end {
            End::Cut => (self.cut, self.retry_cut),
            End::Outcome(outcome) => {
                let slot = outcome.map_or(0, |o| o + 1);
                (
                    self.per_attempt.get(slot).copied().unwrap_or(0.0),
                    self.retried.get(slot).copied().unwrap_or(false),
                )
            }
        };
        if retried {
            // Every try before the last failed in a retried way; the last ended so.
            per_attempt * self.last_try
        } else {
            per_attempt * self.attempts
        }
    }

    /// Attempts per request that end so, as the server counts them.
    pub fn attempt_share(&self, end: End) -> f64 {
        let per_attempt = match end {
            End::Cut => self.cut,
            End::Outcome(outcome) => self
                .per_attempt
                .get(outcome.map_or(0, |o| o + 1))
                .copied()
                .unwrap_or(0.0),
        };
        per_attempt * self.attempts
    }
}

/// Share of requests a client proxy rejects (`UO`) when it may hold `capacity` requests
/// (connections plus pending) and requests arrive at a rate that would keep `offered`
/// busy on average (rate × time held, Little's law). A request that finds every place
/// taken is rejected: Erlang's loss formula, which holds whatever the latency's shape.
pub fn overflow_share(offered: f64, capacity: u64) -> f64 {
    if offered <= 0.0 {
        return 0.0;
    }
    // Far beyond the load, nothing is lost; this also bounds the loop.
    if capacity as f64 > offered + 12.0 * offered.sqrt() + 30.0 {
        return 0.0;
    }
    let mut blocked = 1.0;
    for places in 1..=capacity {
        blocked = offered * blocked / (places as f64 + offered * blocked);
    }
    blocked.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn without_rules_a_request_ends_as_its_only_attempt() {
        let ends = Fate::plain(2).ends(&[0.9, 0.1]);
        assert!(close(ends.attempts, 1.0));
        assert!(close(ends.request_share(End::Outcome(None)), 0.9));
        assert!(close(ends.request_share(End::Outcome(Some(0))), 0.1));
    }

    #[test]
    fn two_retries_of_a_ten_percent_failure_leave_one_in_a_thousand() {
        let fate = Fate {
            retries: 2,
            retry_outcome: vec![false, true],
            ..Fate::plain(2)
        };
        let ends = fate.ends(&[0.9, 0.1]);
        assert!(close(ends.attempts, 1.11));
        assert!(close(ends.request_share(End::Outcome(Some(0))), 0.001));
        assert!(close(ends.request_share(End::Outcome(None)), 0.999));
        // The server sees every attempt: 0.111 failures per request.
        assert!(close(ends.attempt_share(End::Outcome(Some(0))), 0.111));
    }

    #[test]
    fn a_route_timeout_cuts_the_slow_share_and_is_not_retried() {
        let fate = Fate {
            cut_total: 0.25,
            retries: 3,
            retry_outcome: vec![false, true],
            retry_cut: true,
            ..Fate::plain(2)
        };
        let ends = fate.ends(&[1.0, 0.0]);
        assert!(close(ends.request_share(End::Cut), 0.25));
        assert!(close(ends.request_share(End::Outcome(None)), 0.75));
    }

    #[test]
    fn an_overloaded_pool_rejects_most_and_an_idle_one_none() {
        assert!(overflow_share(20.0, 2) > 0.9);
        assert!(overflow_share(0.02, 2) < 1e-3);
        assert_eq!(overflow_share(0.5, 1_000_000), 0.0);
        // One place, as busy as it can be half the time: a third of requests find it taken.
        assert!(close(overflow_share(0.5, 1), 1.0 / 3.0));
    }
}
