//! Counting what was found: per date, event type, status and outcome. [`Counter`] counts
//! callbacks as they are found, so memory grows with the groups only, never with the
//! archive.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::Found;
use crate::record::Outcome;

/// One line of the counts: how many callbacks of one type, status and outcome one day holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatRow {
    /// Key date (`None` when the template has no date).
    pub(crate) date: Option<NaiveDate>,
    /// Event type as in the key (`None` when the template has none).
    pub(crate) event_type: Option<String>,
    /// Status as in the key (`None` when the template has none).
    pub(crate) status: Option<String>,
    /// Outcome as in the key, or as read from the record (`None` when neither says).
    pub(crate) outcome: Option<Outcome>,
    /// Callbacks.
    pub(crate) count: u64,
}

/// Counts a list already found through a [`Counter`]: how the tests count what a search
/// returned.
#[cfg(test)]
pub(crate) fn stats(found: &[Found]) -> Vec<StatRow> {
    let mut c = Counter::default();
    found.iter().for_each(|f| c.add(f));
    c.rows()
}

/// Counts callbacks per date, event type, status and outcome as they are found: memory
/// grows with the groups (days times types times statuses times outcomes), not with the
/// callbacks.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    counts: BTreeMap<Group, u64>,
}

/// What [`Counter`] counts by: date, event type, status, outcome.
type Group = (
    Option<NaiveDate>,
    Option<String>,
    Option<String>,
    Option<Outcome>,
);

impl Counter {
    /// Counts one callback.
    pub(crate) fn add(&mut self, f: &Found) {
        let k = (
            f.fields.date,
            f.fields.event_type.clone(),
            f.fields.status.clone(),
            f.fields.outcome,
        );
        *self.counts.entry(k).or_default() += 1;
    }

    /// The counts, by date, event type, status and outcome.
    pub(crate) fn rows(self) -> Vec<StatRow> {
        self.counts
            .into_iter()
            .map(|((date, event_type, status, outcome), count)| StatRow {
                date,
                event_type,
                status,
                outcome,
                count,
            })
            .collect()
    }
}
