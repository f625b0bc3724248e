//! Each callback listed once: the digests of the last two key dates remembered
//! ([`DigestWindow`]), which is as good as remembering the whole archive.

use std::collections::HashSet;

use chrono::NaiveDate;

/// The digests seen on the current key date and the day before.
///
/// The same callback gets the same digest, and its key date is its own time (else the
/// time of receipt), so a digest repeats only when a callback is redelivered across
/// midnight: under two adjacent dates. Remembering two dates is therefore as good as
/// remembering the whole archive, and bounded by what two days hold. A template without
/// a date cannot tell days apart; then up to [`UNDATED_DIGESTS`] digests are remembered.
#[derive(Debug, Default)]
pub(super) struct DigestWindow {
    date: Option<NaiveDate>,
    today: HashSet<u64>,
    yesterday: HashSet<u64>,
}

/// Digests remembered when keys carry no date (about 16 MiB).
const UNDATED_DIGESTS: usize = 1 << 20;

impl DigestWindow {
    /// True the first time `digest` is seen on `date` or the day before. Dates come in
    /// order.
    pub(super) fn first(&mut self, date: Option<NaiveDate>, digest: &str) -> bool {
        if date != self.date {
            let adjacent = match (self.date, date) {
                (Some(prev), Some(d)) => prev.succ_opt() == Some(d),
                _ => false,
            };
            self.yesterday = if adjacent {
                std::mem::take(&mut self.today)
            } else {
                HashSet::new()
            };
            self.today.clear();
            self.date = date;
        }
        if date.is_none() && self.today.len() >= UNDATED_DIGESTS {
            self.today.clear();
        }
        // Templates make digests 16 hex digits: one u64.
        let d = u64::from_str_radix(digest, 16).unwrap_or_else(|_| {
            use std::hash::BuildHasher;
            std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
                .hash_one(digest)
        });
        !self.yesterday.contains(&d) && self.today.insert(d)
    }
}
