//! Snowflake-style IDs: milliseconds since the Unix epoch << 16 | sequence.
//! Mastodon clients sort IDs as strings by length, then lexically; these
//! sort by creation time in both orders.
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDateTime, Utc};

static LAST: AtomicI64 = AtomicI64::new(0);
static NODE: OnceLock<i64> = OnceLock::new();

/// Random 6 bits per process, so app nodes sharing one PostgreSQL rarely
/// pick the same ID in the same millisecond.
fn node_bits() -> i64 {
    *NODE.get_or_init(|| (rand::random::<u8>() as i64 & 0x3f) << 10)
}

/// A new, strictly increasing (per process) ID for `now`.
pub fn next_id_at(now: DateTime<Utc>) -> i64 {
    let candidate = (now.timestamp_millis() << 16) | node_bits();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = candidate.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

pub fn next_id() -> i64 {
    next_id_at(Utc::now())
}

/// Now, truncated to milliseconds: what both databases store and clients see.
pub fn now() -> NaiveDateTime {
    let n = Utc::now().naive_utc();
    n.with_nanosecond_trunc()
}

trait TruncMillis {
    fn with_nanosecond_trunc(self) -> Self;
}

impl TruncMillis for NaiveDateTime {
    fn with_nanosecond_trunc(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(self.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_sort_as_strings() {
        let mut prev = next_id();
        for _ in 0..10_000 {
            let id = next_id();
            assert!(id > prev);
            let (a, b) = (prev.to_string(), id.to_string());
            assert!((a.len(), &a) < (b.len(), &b));
            prev = id;
        }
    }

    #[test]
    fn ids_carry_their_time() {
        let t = Utc::now();
        let id = next_id_at(t);
        assert_eq!(id >> 16, t.timestamp_millis().max(id >> 16));
    }
}
