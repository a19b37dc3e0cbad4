//! Label values shared between the samples that carry them.
//!
//! A large answer repeats few distinct values (a mesh of 10k workloads answers 400k series
//! with some 20k distinct peers): interning them while decoding makes a sample cost a few
//! reference counts instead of a dozen string allocations, and makes samples cheap to clone
//! and to drop.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use super::hashing::{same_bytes, FoldState};
use super::traffic::PeerLabels;

/// An immutable label value; clones share one allocation.
#[derive(Clone, PartialOrd, Ord)]
pub struct LabelValue(Arc<str>);

impl LabelValue {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for LabelValue {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for LabelValue {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for LabelValue {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq for LabelValue {
    fn eq(&self, other: &Self) -> bool {
        // Interned values are usually the very same allocation.
        Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl Eq for LabelValue {}

impl Hash for LabelValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, which `Borrow<str>` requires.
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for LabelValue {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LabelValue {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for LabelValue {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<LabelValue> for &str {
    fn eq(&self, other: &LabelValue) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<LabelValue> for str {
    fn eq(&self, other: &LabelValue) -> bool {
        self == other.as_str()
    }
}

impl From<&str> for LabelValue {
    fn from(value: &str) -> Self {
        LabelValue(value.into())
    }
}

impl From<String> for LabelValue {
    fn from(value: String) -> Self {
        LabelValue(value.into())
    }
}

impl From<&String> for LabelValue {
    fn from(value: &String) -> Self {
        LabelValue(value.as_str().into())
    }
}

impl From<LabelValue> for String {
    fn from(value: LabelValue) -> Self {
        value.as_str().to_owned()
    }
}

impl fmt::Debug for LabelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for LabelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Text from an answer as UTF-8 bytes. The decoder hands in slices of a body it has
/// checked; should anything else slip in, it is replaced rather than trusted.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A map whose keys are already hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are ever written; keep any other input working anyway.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type ByHash<V> = std::collections::HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// A peer, and where its parts lie in the arena.
struct StoredPeer {
    start: usize,
    end: usize,
    peer: Arc<PeerLabels>,
}

/// Hands out one shared [`LabelValue`] (and one shared [`PeerLabels`]) per distinct text.
///
/// Lookups hash the bytes as they lie in the answer, so a value seen before costs no
/// allocation and no UTF-8 check. Two texts whose hashes collide both stay correct: the
/// second is simply not shared.
///
/// On a large answer most of the time goes to memory the answer's stream has pushed out of
/// the caches, so lookups touch as few places as they can: a value is compared in its own
/// allocation, where its reference count is too; a peer in a copy of its parts kept back
/// to back with the others'.
#[derive(Default)]
pub struct LabelInterner {
    state: FoldState,
    values: ByHash<LabelValue>,
    /// Each peer's parts: their lengths (4 bytes each) and bytes.
    arena: Vec<u8>,
    peers: ByHash<StoredPeer>,
    /// What was last handed out per slot (see [`LabelInterner::value_in`]).
    recent_values: [Option<LabelValue>; RECENT_SLOTS],
    recent_peers: [Option<(usize, usize, Arc<PeerLabels>)>; RECENT_SLOTS],
}

const RECENT_SLOTS: usize = 32;

fn encode_parts(arena: &mut Vec<u8>, parts: [&[u8]; 5]) {
    for part in parts {
        arena.extend_from_slice(&(part.len() as u32).to_le_bytes());
        arena.extend_from_slice(part);
    }
}

fn same_parts(mut stored: &[u8], parts: [&[u8]; 5]) -> bool {
    for part in parts {
        let Some((length, rest)) = stored.split_first_chunk::<4>() else {
            return false;
        };
        if u32::from_le_bytes(*length) as usize != part.len() {
            return false;
        }
        let Some((bytes, rest)) = rest.split_at_checked(part.len()) else {
            return false;
        };
        if !same_bytes(bytes, part) {
            return false;
        }
        stored = rest;
    }
    stored.is_empty()
}

impl LabelInterner {
    pub fn new() -> Self {
        Self::default()
    }

    fn stored(&self, start: usize, end: usize) -> &[u8] {
        self.arena.get(start..end).unwrap_or_default()
    }

    pub fn value(&mut self, bytes: &[u8]) -> LabelValue {
        let hash = self.state.hash_one(bytes);
        match self.values.get(&hash) {
            Some(value) if same_bytes(value.as_bytes(), bytes) => value.clone(),
            Some(_) => LabelValue::from(text(bytes)),
            None => self
                .values
                .entry(hash)
                .or_insert_with(|| LabelValue::from(text(bytes)))
                .clone(),
        }
    }

    /// [`LabelInterner::value`] for a caller that asks for the same label of series after
    /// series: `slot` (below 32) names the label, and a value equal to the one before in that
    /// slot costs one comparison, as in answers where neighbouring series share most labels.
    pub fn value_in(&mut self, slot: usize, bytes: &[u8]) -> LabelValue {
        if let Some(Some(recent)) = self.recent_values.get(slot) {
            if same_bytes(recent.as_bytes(), bytes) {
                return recent.clone();
            }
        }
        let value = self.value(bytes);
        if let Some(recent) = self.recent_values.get_mut(slot) {
            *recent = Some(value.clone());
        }
        value
    }

    /// A peer from its cluster, namespace, workload, app and version, in that order.
    pub fn peer(&mut self, parts: [&[u8]; 5]) -> Arc<PeerLabels> {
        self.peer_stored(parts).2
    }

    /// The peer, and where its parts lie in the arena (an empty range if not kept).
    fn peer_stored(&mut self, parts: [&[u8]; 5]) -> (usize, usize, Arc<PeerLabels>) {
        let hash = self.state.hash_one(parts);
        let make = || {
            let [cluster, namespace, workload, app, version] = parts;
            Arc::new(PeerLabels {
                cluster: text(cluster),
                namespace: text(namespace),
                workload: text(workload),
                app: text(app),
                version: text(version),
            })
        };
        match self.peers.get(&hash) {
            Some(found) if same_parts(self.stored(found.start, found.end), parts) => {
                return (found.start, found.end, found.peer.clone())
            }
            Some(_) => return (0, 0, make()),
            None => {}
        }
        let start = self.arena.len();
        encode_parts(&mut self.arena, parts);
        let end = self.arena.len();
        let peer = make();
        self.peers.insert(
            hash,
            StoredPeer {
                start,
                end,
                peer: peer.clone(),
            },
        );
        (start, end, peer)
    }

    /// A peer already interned, looked up without changing anything; `true` if it is the
    /// one its slot remembers.
    fn find_peer(
        &self,
        request: &PeerRequest<'_>,
    ) -> Option<(usize, usize, &Arc<PeerLabels>, bool)> {
        if let Some(Some((start, end, recent))) = self.recent_peers.get(request.slot) {
            if same_parts(self.stored(*start, *end), request.parts) {
                return Some((*start, *end, recent, true));
            }
        }
        let found = self.peers.get(&self.state.hash_one(request.parts))?;
        same_parts(self.stored(found.start, found.end), request.parts).then_some((
            found.start,
            found.end,
            &found.peer,
            false,
        ))
    }

    fn find_value(&self, request: &ValueRequest<'_>) -> Option<(&LabelValue, bool)> {
        if let Some(Some(recent)) = self.recent_values.get(request.slot) {
            if same_bytes(recent.as_bytes(), request.bytes) {
                return Some((recent, true));
            }
        }
        let found = self.values.get(&self.state.hash_one(request.bytes))?;
        same_bytes(found.as_bytes(), request.bytes).then_some((found, false))
    }

    /// The peers and values of one series at once, each as [`LabelInterner::peer`] and
    /// [`LabelInterner::value_in`] would give it.
    ///
    /// Everything is looked up before any reference is taken: taking one is an atomic
    /// write that makes the processor finish every read before it, so one at a time, each
    /// lookup waited for memory on its own.
    pub fn resolve<const P: usize, const V: usize>(
        &mut self,
        peers: [PeerRequest<'_>; P],
        values: [ValueRequest<'_>; V],
    ) -> ([Arc<PeerLabels>; P], [LabelValue; V]) {
        let found_peers: [_; P] = std::array::from_fn(|i| self.find_peer(&peers[i]));
        let found_values: [_; V] = std::array::from_fn(|i| self.find_value(&values[i]));
        for (_, _, peer, _) in found_peers.iter().flatten() {
            // A plain read brings the count's cache line in alongside the others.
            std::hint::black_box(Arc::strong_count(peer));
        }
        let found_peers: [_; P] = std::array::from_fn(|i| {
            found_peers[i].map(|(start, end, peer, recent)| (start, end, peer.clone(), recent))
        });
        let found_values: [_; V] =
            std::array::from_fn(|i| found_values[i].map(|(value, recent)| (value.clone(), recent)));
        let mut found_peers = found_peers.into_iter();
        let resolved_peers = std::array::from_fn(|i| {
            let request = &peers[i];
            let (start, end, peer, recent) = match found_peers.next().flatten() {
                Some(found) => found,
                None => {
                    let (start, end, peer) = self.peer_stored(request.parts);
                    (start, end, peer, false)
                }
            };
            if !recent {
                if let Some(slot) = self.recent_peers.get_mut(request.slot) {
                    *slot = Some((start, end, peer.clone()));
                }
            }
            peer
        });
        let mut found_values = found_values.into_iter();
        let resolved_values = std::array::from_fn(|i| {
            let request = &values[i];
            let (value, recent) = match found_values.next().flatten() {
                Some(found) => found,
                None => (self.value(request.bytes), false),
            };
            if !recent {
                if let Some(slot) = self.recent_values.get_mut(request.slot) {
                    *slot = Some(value.clone());
                }
            }
            value
        });
        (resolved_peers, resolved_values)
    }
}

/// A peer to look up: its parts (cluster, namespace, workload, app, version) and the slot
/// that remembers the last one (see [`LabelInterner::value_in`]).
pub struct PeerRequest<'b> {
    pub slot: usize,
    pub parts: [&'b [u8]; 5],
}

/// A value to look up, and the slot that remembers the last one.
pub struct ValueRequest<'b> {
    pub slot: usize,
    pub bytes: &'b [u8],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_value() {
        let mut interner = LabelInterner::new();
        let first = interner.value(b"reviews.bookinfo.svc.cluster.local");
        let again = interner.value(b"reviews.bookinfo.svc.cluster.local");
        let other = interner.value(b"ratings.bookinfo.svc.cluster.local");
        assert!(Arc::ptr_eq(&first.0, &again.0));
        assert_eq!(first, "reviews.bookinfo.svc.cluster.local");
        assert_eq!(other, "ratings.bookinfo.svc.cluster.local");
        assert_ne!(first, other);
    }

    #[test]
    fn equal_peers_share_one_label_set_and_parts_never_run_together() {
        let mut interner = LabelInterner::new();
        let parts: [&[u8]; 5] = [b"east", b"bookinfo", b"reviews-v2", b"reviews", b"v2"];
        let first = interner.peer(parts);
        assert!(Arc::ptr_eq(&first, &interner.peer(parts)));
        assert_eq!(first.workload, "reviews-v2");
        assert_eq!(first.cluster, "east");
        let shifted = interner.peer([b"east", b"bookinfo", b"reviews-v", b"2reviews", b"v2"]);
        assert_eq!(shifted.workload, "reviews-v");
        assert_eq!(shifted.app, "2reviews");
    }

    #[test]
    fn a_slot_remembers_its_last_value_and_a_new_one_replaces_it() {
        let mut interner = LabelInterner::new();
        let first = interner.value_in(3, b"reviews");
        assert!(Arc::ptr_eq(&first.0, &interner.value_in(3, b"reviews").0));
        assert_eq!(interner.value_in(3, b"ratings"), "ratings");
        assert!(Arc::ptr_eq(&first.0, &interner.value_in(3, b"reviews").0));
        // Slots beyond the remembered ones still intern.
        assert_eq!(interner.value_in(99, b"reviews"), "reviews");
    }

    #[test]
    fn a_series_resolved_at_once_gets_what_one_lookup_at_a_time_gets() {
        let mut interner = LabelInterner::new();
        let reviews: [&[u8]; 5] = [b"east", b"bookinfo", b"reviews-v2", b"reviews", b"v2"];
        let ratings: [&[u8]; 5] = [b"east", b"bookinfo", b"ratings-v1", b"ratings", b"v1"];
        let series = |interner: &mut LabelInterner, destination, host: &'static [u8]| {
            interner.resolve(
                [
                    PeerRequest {
                        slot: 0,
                        parts: reviews,
                    },
                    PeerRequest {
                        slot: 1,
                        parts: destination,
                    },
                ],
                [
                    ValueRequest {
                        slot: 2,
                        bytes: host,
                    },
                    ValueRequest {
                        slot: 3,
                        bytes: b"-",
                    },
                ],
            )
        };
        let ([source, destination], [host, flags]) =
            series(&mut interner, ratings, b"ratings.bookinfo");
        assert_eq!(destination.workload, "ratings-v1");
        assert_eq!((host.as_str(), flags.as_str()), ("ratings.bookinfo", "-"));
        // Again, then with another destination, then back: shared every time it repeats.
        let ([same_source, same_destination], [same_host, _]) =
            series(&mut interner, ratings, b"ratings.bookinfo");
        assert!(Arc::ptr_eq(&source, &same_source));
        assert!(Arc::ptr_eq(&destination, &same_destination));
        assert!(Arc::ptr_eq(&host.0, &same_host.0));
        let ([_, to_reviews], [reviews_host, _]) =
            series(&mut interner, reviews, b"reviews.bookinfo");
        assert_eq!(to_reviews.workload, "reviews-v2");
        assert!(Arc::ptr_eq(&to_reviews, &source));
        assert_eq!(reviews_host, "reviews.bookinfo");
        let ([_, back], [back_host, _]) = series(&mut interner, ratings, b"ratings.bookinfo");
        assert!(Arc::ptr_eq(&back, &destination));
        assert!(Arc::ptr_eq(&back_host.0, &host.0));
        assert!(Arc::ptr_eq(&back, &interner.peer(ratings)));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced_not_trusted() {
        let mut interner = LabelInterner::new();
        assert_eq!(interner.value(b"caf\xc3"), "caf\u{fffd}");
    }

    #[test]
    fn a_value_compares_with_plain_strings_both_ways() {
        let value = LabelValue::from("UO");
        assert_eq!(value, "UO");
        assert_eq!("UO", value);
        assert_eq!(value, String::from("UO"));
        assert_eq!(format!("{value} {value:?}"), "UO \"UO\"");
    }
}
