//! Run ids: the token every `conform run`, `record` and `compare` invocation sends in
//! [`RUN_ID_HEADER`](crate::exchange::RUN_ID_HEADER), so that a replay server can keep the
//! positions of recorded sequences per run instead of one global position that a run cut short
//! leaves part-way.
//!
//! A run id only has to be different from every other run's against the same server; it is no
//! secret and no security token. It is made from the time, the process id and a counter, hashed
//! with the standard library's randomly keyed SipHash (no extra crate), and written as a UUID
//! (version 4 layout), which any log or proxy accepts.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh run id, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` in lower-case hex.
pub fn fresh_run_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let pid = std::process::id();
    // Two independently keyed hashes give 128 bits.
    let half = |salt: u8| {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u8(salt);
        hasher.write_u128(nanos);
        hasher.write_u32(pid);
        hasher.write_u64(count);
        hasher.finish()
    };
    let (high, low) = (half(1), half(2));
    let high = (high & !0xf000) | 0x4000; // version 4
    let low = (low & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_uuid_shaped_and_differ() {
        let shape = regex::Regex::new(
            r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| fresh_run_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert!(shape.is_match(id), "{id}");
        }
    }
}
