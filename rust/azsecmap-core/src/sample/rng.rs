//! A small seeded PRNG (SplitMix64) and the key-mixing used to give every generated document
//! its own independent stream, so that document `i` depends only on `(seed, i)`.

/// The SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Folds several integers into one well-mixed key (order matters).
pub(crate) fn key(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x243F_6A88_85A3_08D3, |h, p| mix(h ^ mix(*p)))
}

/// SplitMix64: 64 bits of state, one add and a mix per output; plenty for synthetic data.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is a function of `seed` alone.
    pub fn new(seed: u64) -> Self {
        Self { state: mix(seed) }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (0 when `n` is 0), by multiply-high (Lemire, bias < 2^-32
    /// for the small `n` used here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `percent / 100`.
    pub fn pct(&mut self, percent: u32) -> bool {
        self.below(100) < u64::from(percent)
    }

    /// A uniformly chosen item, or `T::default()` for an empty slice.
    pub fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let i = self.below(items.len() as u64) as usize;
        items.get(i).copied().unwrap_or_default()
    }

    /// An item chosen by integer weight, or `T::default()` when every weight is 0.
    pub fn weighted<T: Copy + Default>(&mut self, items: &[(u32, T)]) -> T {
        let total: u64 = items.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (w, v) in items {
            let w = u64::from(*w);
            if r < w {
                return *v;
            }
            r -= w;
        }
        T::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_a_function_of_the_seed() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::new(7);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let mut r = SplitMix64::new(7);
        assert!(a.iter().all(|x| *x == r.next_u64()));
        assert_ne!(key(&[1, 2]), key(&[2, 1]));
    }

    #[test]
    fn below_stays_in_range_and_weighted_follows_weights() {
        let mut r = SplitMix64::new(1);
        assert!((0..1000).all(|_| r.below(7) < 7));
        let hits = (0..10_000)
            .filter(|_| r.weighted(&[(1, false), (3, true)]))
            .count();
        assert!((7_000..8_000).contains(&hits), "{hits}");
    }
}
