//! Latency distributions of simulated backends, turned into Envoy's histogram buckets.

/// Envoy's default histogram bounds in milliseconds; `+Inf` is implied after the last one.
pub const DURATION_BOUNDS_MS: [f64; 19] = [
    0.5,
    1.0,
    5.0,
    10.0,
    25.0,
    50.0,
    100.0,
    250.0,
    500.0,
    1000.0,
    2500.0,
    5000.0,
    10000.0,
    30000.0,
    60000.0,
    300000.0,
    600000.0,
    1_800_000.0,
    3_600_000.0,
];

/// A log-normal latency: half the requests finish within `median_ms`; `spread` is the
/// standard deviation of the natural log, so about 95 % fall within median ×/÷ e^(2·spread).
/// `shift_ms` is a fixed time added to every request (an injected delay), which a wider
/// log-normal would get wrong: a 2 s delay does not make fast requests vary by seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyProfile {
    pub median_ms: f64,
    pub spread: f64,
    pub shift_ms: f64,
}

/// Fraction of requests at or under each finite bound, cumulative and non-decreasing.
pub type BucketShares = [f64; DURATION_BOUNDS_MS.len()];

impl LatencyProfile {
    pub const fn new(median_ms: f64, spread: f64) -> Self {
        LatencyProfile {
            median_ms,
            spread,
            shift_ms: 0.0,
        }
    }

    /// The same shape, every request `delay_ms` later.
    pub fn delayed(self, delay_ms: f64) -> Self {
        LatencyProfile {
            shift_ms: self.shift_ms + delay_ms.max(0.0),
            ..self
        }
    }

    /// The same shape with every request `factor` times as slow.
    pub fn scaled(self, factor: f64) -> Self {
        LatencyProfile {
            median_ms: self.median_ms * factor,
            ..self
        }
    }

    /// The same shape with `extra_ms` added to the median (e.g. a proxy hop).
    pub fn plus_ms(self, extra_ms: f64) -> Self {
        LatencyProfile {
            median_ms: self.median_ms + extra_ms,
            ..self
        }
    }

    /// Mean of the log-normal plus the shift, for the histogram's `_sum`.
    pub fn mean_ms(self) -> f64 {
        self.median_ms.max(f64::MIN_POSITIVE) * (self.spread * self.spread / 2.0).exp()
            + self.shift_ms
    }

    /// Share of requests that take at most `le_ms`.
    pub fn cdf(self, le_ms: f64) -> f64 {
        let le_ms = le_ms - self.shift_ms;
        if le_ms <= 0.0 {
            return 0.0;
        }
        let median = self.median_ms.max(1e-6);
        if self.spread <= 0.0 {
            return if le_ms >= median { 1.0 } else { 0.0 };
        }
        standard_normal_cdf((le_ms.ln() - median.ln()) / self.spread)
    }

    /// Shares per bucket. The running maximum guards against the approximation of `erf`
    /// dipping by a rounding error, which would make a cumulative histogram decrease.
    pub fn bucket_shares(self) -> BucketShares {
        let mut shares = [0.0; DURATION_BOUNDS_MS.len()];
        let mut running = 0.0_f64;
        for (share, bound) in shares.iter_mut().zip(DURATION_BOUNDS_MS) {
            running = running.max(self.cdf(bound).clamp(0.0, 1.0));
            *share = running;
        }
        shares
    }
}

fn standard_normal_cdf(z: f64) -> f64 {
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): plenty for a simulation,
/// and std has no `erf`.
fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_the_requests_finish_within_the_median() {
        let profile = LatencyProfile::new(10.0, 0.5);
        assert!((profile.cdf(10.0) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn bucket_shares_rise_from_almost_nothing_to_everything() {
        let shares = LatencyProfile::new(20.0, 0.6).bucket_shares();
        assert!(shares[0] < 1e-3);
        assert!(shares.windows(2).all(|pair| pair[0] <= pair[1]));
        assert!((shares[shares.len() - 1] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_delay_moves_every_request_by_the_same_time() {
        let profile = LatencyProfile::new(10.0, 0.5).delayed(2000.0);
        assert_eq!(profile.cdf(2000.0), 0.0);
        assert!((profile.cdf(2010.0) - 0.5).abs() < 1e-6);
        assert!(profile.cdf(2100.0) > 0.99);
    }

    #[test]
    fn a_profile_without_spread_is_a_step() {
        let shares = LatencyProfile::new(7.0, 0.0).bucket_shares();
        assert_eq!(shares[2], 0.0);
        assert_eq!(shares[3], 1.0);
    }
}
