//! A fast hasher for the maps that see every series of a large answer.
//!
//! std's SipHash was the largest single cost of building a graph from 400k series; this
//! multiply-fold hash is several times cheaper on short label values. It is seeded per
//! process from std's random keys, so a mesh cannot choose names that collide on purpose
//! as easily as with a fixed-key hash.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// The high and low halves of a 128-bit product, folded: every input bit reaches every
/// output bit.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Builds [`FoldHasher`]s with one random seed per process.
#[derive(Debug, Clone, Copy)]
pub struct FoldState {
    seed: u64,
}

impl Default for FoldState {
    fn default() -> Self {
        use std::sync::OnceLock;
        static SEED: OnceLock<u64> = OnceLock::new();
        let seed = *SEED.get_or_init(|| RandomState::new().build_hasher().finish());
        FoldState { seed: seed | 1 }
    }
}

impl BuildHasher for FoldState {
    type Hasher = FoldHasher;

    fn build_hasher(&self) -> FoldHasher {
        FoldHasher { state: self.seed }
    }
}

#[derive(Debug, Clone)]
pub struct FoldHasher {
    state: u64,
}

impl FoldHasher {
    fn mix(&mut self, word: u64) {
        self.state = fold(self.state ^ word, MULTIPLIER);
    }
}

/// 1 to 7 bytes as one word, every byte in it, read without a variable-length copy (which
/// compiles to a call into libc): two reads that overlap when the tail is short.
fn tail_word(rest: &[u8]) -> u64 {
    let len = rest.len();
    if len >= 4 {
        let (mut first, mut last) = ([0u8; 4], [0u8; 4]);
        first.copy_from_slice(rest.get(..4).unwrap_or_default());
        last.copy_from_slice(rest.get(len - 4..).unwrap_or_default());
        u64::from(u32::from_le_bytes(first)) | (u64::from(u32::from_le_bytes(last)) << 32)
    } else {
        let byte = |i: usize| u64::from(rest.get(i).copied().unwrap_or(0));
        byte(0) | (byte(len / 2) << 8) | (byte(len.saturating_sub(1)) << 16)
    }
}

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // The length tells "a" from "a\0".
            self.mix(tail_word(rest) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }

    fn finish(&self) -> u64 {
        // hashbrown picks buckets with the low bits and tags with the top 7: mix once more
        // so both depend on the whole input.
        fold(self.state, MULTIPLIER)
    }
}

/// Whether two short byte strings are equal, compared a word at a time in place: a call into
/// libc's `memcmp` costs more than comparing a label value.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut a_words = a.chunks_exact(8);
    let mut b_words = b.chunks_exact(8);
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        let (mut x_word, mut y_word) = ([0u8; 8], [0u8; 8]);
        x_word.copy_from_slice(x);
        y_word.copy_from_slice(y);
        if u64::from_ne_bytes(x_word) != u64::from_ne_bytes(y_word) {
            return false;
        }
    }
    a_words
        .remainder()
        .iter()
        .zip(b_words.remainder())
        .all(|(x, y)| x == y)
}

/// A `HashMap` with [`FoldState`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, FoldState>;
/// A `HashSet` with [`FoldState`].
pub type FastSet<T> = std::collections::HashSet<T, FoldState>;

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(value: impl std::hash::Hash) -> u64 {
        FoldState::default().hash_one(value)
    }

    #[test]
    fn equal_values_hash_alike_and_near_values_apart() {
        assert_eq!(hash("reviews-v2"), hash(String::from("reviews-v2")));
        let near = [
            "",
            "a",
            "a\0",
            "b",
            "reviews-v1",
            "reviews-v2",
            "reviews-v2 ",
        ];
        let hashes: FastSet<u64> = near.iter().map(hash).collect();
        assert_eq!(hashes.len(), near.len());
        assert_ne!(hash(("ab", "c")), hash(("a", "bc")));
    }

    #[test]
    fn every_byte_of_a_short_string_counts() {
        let words = [
            "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh",
        ];
        for word in words {
            for i in 0..word.len() {
                let mut other = word.as_bytes().to_vec();
                other[i] ^= 0x20;
                assert_ne!(hash(word.as_bytes()), hash(&other[..]), "{word} byte {i}");
            }
        }
    }

    #[test]
    fn byte_strings_are_equal_only_when_every_byte_is() {
        let long = b"reviews.bookinfo.svc.cluster.local";
        assert!(same_bytes(long, long.to_vec().as_slice()));
        assert!(same_bytes(b"", b""));
        for (i, _) in long.iter().enumerate() {
            let mut other = long.to_vec();
            other[i] ^= 1;
            assert!(!same_bytes(long, &other), "byte {i}");
        }
        assert!(!same_bytes(b"reviews", b"reviews-v2"));
    }
}
