//! Exact discrete Laplace noise from a seeded generator.
//!
//! Counts are integers, so the noise is the discrete Laplace distribution
//! `P[X = x] ∝ exp(-|x| / b)` over the integers (the "geometric mechanism"), sampled *exactly*
//! with integer arithmetic by the algorithm of Canonne, Kamath and Steinke (CKS20, "The
//! Discrete Gaussian for Differential Privacy", Algorithms 1 and 2): no floating point, so no
//! floating-point attack on the noise (Mironov 2012).
//!
//! Why not the `opendp` crate, which has the same sampler: its samplers draw from system
//! entropy only and cannot be seeded, and the gate needs noise *derived* from (site secret,
//! project, canonical question, data snapshot) so that asking the same question again returns
//! the same answer even after the site's ledger is lost.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

/// A noise scale `b = t / s` as a reduced fraction of positive integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    t: u64,
    s: u64,
}

impl Scale {
    /// `b = sensitivity / ε` with ε given in thousandths (`epsilon_milli` = 500 for ε = 0.5).
    pub fn from_epsilon(sensitivity: u32, epsilon_milli: u64) -> Scale {
        let (t, s) = (u64::from(sensitivity.max(1)) * 1000, epsilon_milli.max(1));
        let g = gcd(t, s);
        Scale { t: t / g, s: s / g }
    }

    /// The scale as a float, for display.
    pub fn as_f64(self) -> f64 {
        self.t as f64 / self.s as f64
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A deterministic random stream for one released count.
pub struct NoiseStream(ChaCha20Rng);

impl NoiseStream {
    /// Derives the stream from the site's secret and the parts that identify one count: the
    /// same parts always give the same noise; without the secret, nobody can predict it.
    pub fn derive(secret: &[u8; 32], parts: &[&str]) -> NoiseStream {
        let mut h = Sha256::new();
        h.update(b"kakehashi-noise-v1\0");
        h.update(secret);
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        NoiseStream(ChaCha20Rng::from_seed(h.finalize().into()))
    }

    fn below(&mut self, m: u128) -> u128 {
        self.0.random_range(0..m)
    }

    /// Bernoulli(n / m), exactly.
    fn bernoulli(&mut self, n: u128, m: u128) -> bool {
        self.below(m) < n
    }

    /// Bernoulli(exp(-n/d)) for n/d in [0, 1] (CKS20 Algorithm 1).
    fn bernoulli_exp_le1(&mut self, n: u128, d: u128) -> bool {
        let mut k: u128 = 1;
        while self.bernoulli(n, d * k) {
            k += 1;
        }
        k % 2 == 1
    }

    /// Bernoulli(exp(-n/d)) for any n/d ≥ 0.
    fn bernoulli_exp(&mut self, n: u128, d: u128) -> bool {
        for _ in 0..n / d {
            if !self.bernoulli_exp_le1(1, 1) {
                return false;
            }
        }
        self.bernoulli_exp_le1(n % d, d)
    }

    /// One draw of the discrete Laplace distribution with scale `b` (CKS20 Algorithm 2).
    pub fn discrete_laplace(&mut self, b: Scale) -> i64 {
        let (t, s) = (u128::from(b.t), u128::from(b.s));
        loop {
            let u = self.below(t);
            if !self.bernoulli_exp(u, t) {
                continue;
            }
            let mut v: u128 = 0;
            while self.bernoulli_exp_le1(1, 1) {
                v += 1;
            }
            let y = (u + t * v) / s;
            let negative = self.bernoulli(1, 2);
            if negative && y == 0 {
                continue;
            }
            let y = i64::try_from(y).unwrap_or(i64::MAX);
            return if negative { -y } else { y };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sampler's frequencies match the exact probability mass function.
    #[test]
    fn discrete_laplace_matches_its_distribution() {
        for (sens, eps_milli) in [(1, 1000), (1, 500), (2, 300)] {
            let scale = Scale::from_epsilon(sens, eps_milli);
            let b = scale.as_f64();
            let mut stream = NoiseStream::derive(&[7; 32], &["test", &eps_milli.to_string()]);
            let n = 200_000;
            let mut hist = std::collections::BTreeMap::<i64, u64>::new();
            for _ in 0..n {
                *hist.entry(stream.discrete_laplace(scale)).or_default() += 1;
            }
            let q = (-1.0 / b).exp();
            let pmf = |x: i64| (1.0 - q) / (1.0 + q) * q.powi(x.unsigned_abs() as i32);
            for x in -3..=3 {
                let expected = pmf(x) * n as f64;
                let got = *hist.get(&x).unwrap_or(&0) as f64;
                let sd = expected.sqrt();
                assert!(
                    (got - expected).abs() < 5.0 * sd,
                    "b={b} x={x}: got {got}, expected {expected:.0}"
                );
            }
            let mean: f64 = hist.iter().map(|(x, c)| *x as f64 * *c as f64).sum::<f64>() / n as f64;
            assert!(mean.abs() < 0.05 * b.max(1.0), "mean {mean} for b={b}");
        }
    }

    #[test]
    fn the_same_parts_give_the_same_noise_and_others_differ() {
        let s = Scale::from_epsilon(1, 500);
        let draw = |parts: &[&str]| {
            let mut st = NoiseStream::derive(&[1; 32], parts);
            (0..16).map(|_| st.discrete_laplace(s)).collect::<Vec<_>>()
        };
        assert_eq!(draw(&["p", "q", "snap"]), draw(&["p", "q", "snap"]));
        assert_ne!(draw(&["p", "q", "snap"]), draw(&["p", "q", "snap2"]));
        // Part boundaries matter: ("ab","c") is not ("a","bc").
        assert_ne!(draw(&["ab", "c"]), draw(&["a", "bc"]));
    }
}
