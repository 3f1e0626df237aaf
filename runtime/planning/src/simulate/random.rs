//! Seeded random numbers: independent streams, and the few distributions the simulation
//! draws from (exponential, lognormal, uniform). Sampling is written out here rather than
//! taken from a statistics crate: it is a handful of lines over `fastrand`.
//!
//! Each stream is its own generator, seeded from the run's seed and the stream's number,
//! so what one stream draws never shifts another: with the same seed, the same customers
//! arrive whatever the agents do (common random numbers, so two staffing plans are
//! compared on the same day).

use std::f64::consts::TAU;

/// One stream of random numbers.
#[derive(Clone, Debug)]
pub struct Stream(fastrand::Rng);

impl Stream {
    /// Stream number `stream` of the run seeded with `seed`.
    pub fn new(seed: u64, stream: u64) -> Stream {
        Stream(fastrand::Rng::with_seed(mix(seed ^ mix(stream.wrapping_add(1)))))
    }

    /// A new stream seeded from this one: a customer's own choices, for example.
    pub fn fork(&mut self) -> Stream {
        Stream(fastrand::Rng::with_seed(mix(self.0.u64(..))))
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.f64()
    }

    /// Exponential with mean `mean`, by inversion: −mean · ln(1 − u).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Lognormal with mean `mean` and coefficient of variation `cv`:
    /// σ² = ln(1 + cv²), μ = ln(mean) − σ²/2, so that e^(μ + σ²/2) = mean.
    pub fn lognormal(&mut self, mean: f64, cv: f64) -> f64 {
        let variance = (1.0 + cv * cv).ln();
        let mu = mean.ln() - variance / 2.0;
        (mu + variance.sqrt() * self.normal()).exp()
    }

    /// Standard normal, by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }

    /// Uniform among the whole numbers from `low` to `high`, both included.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        self.0.i64(low..=high.max(low))
    }

    /// Uniform among `0..len`; `len` must not be 0.
    pub fn index(&mut self, len: usize) -> usize {
        self.0.usize(..len)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// SplitMix64's finaliser: nearby seeds (1, 2, 3) give unrelated generators.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_and_cv(mut draw: impl FnMut() -> f64) -> (f64, f64) {
        let n = 200_000;
        let samples: Vec<f64> = (0..n).map(|_| draw()).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, variance.sqrt() / mean)
    }

    #[test]
    fn exponential_samples_have_the_mean_and_a_coefficient_of_variation_of_one() {
        let mut s = Stream::new(7, 0);
        let (mean, cv) = mean_and_cv(|| s.exponential(180.0));
        assert!((mean / 180.0 - 1.0).abs() < 0.01, "mean {mean}");
        assert!((cv - 1.0).abs() < 0.02, "cv {cv}");
    }

    #[test]
    fn lognormal_samples_have_the_mean_and_cv_asked_for() {
        let mut s = Stream::new(7, 1);
        let (mean, cv) = mean_and_cv(|| s.lognormal(300.0, 0.6));
        assert!((mean / 300.0 - 1.0).abs() < 0.01, "mean {mean}");
        assert!((cv - 0.6).abs() < 0.02, "cv {cv}");
        assert!((0..1000).all(|_| s.lognormal(300.0, 0.6) > 0.0));
    }

    #[test]
    fn streams_repeat_for_a_seed_and_differ_between_seeds_and_streams() {
        let draw = |seed, stream| {
            let mut s = Stream::new(seed, stream);
            (0..8).map(|_| s.between(0, 1_000_000)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1, 0), draw(1, 0));
        assert_ne!(draw(1, 0), draw(2, 0));
        assert_ne!(draw(1, 0), draw(1, 1));
    }

    #[test]
    fn between_includes_both_ends() {
        let mut s = Stream::new(3, 0);
        let seen: std::collections::BTreeSet<i64> = (0..1000).map(|_| s.between(2, 5)).collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [2, 3, 4, 5]);
        assert_eq!(s.between(4, 4), 4);
    }
}
