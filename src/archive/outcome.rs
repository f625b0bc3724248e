//! The outcome filter over keys that do not carry the outcome (a template without
//! `{outcome}`, such as the default of earlier versions): each candidate's record is read.
//!
//! A record has an `outcome` field since the field exists; an older record gets its outcome
//! from its archived event, classified by the same rule ([`crate::record::outcome`]), so an
//! archive written before outcomes existed answers "what failed" too.

use super::record;
use super::replay::bounded;
use super::source::{Source, SourceError};
use super::{Filters, Found};
use crate::record::Outcome;

/// Records read at once.
const RECORDS_AT_ONCE: usize = 8;

/// What reading the records left.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// The callbacks whose outcome the filters want, in the order given, each with its
    /// outcome filled in.
    pub(crate) found: Vec<Found>,
    /// Records read.
    pub(crate) read: u64,
    /// Records that could not be read as records (gone since the listing, not JSON): left
    /// out, since their outcome is not known.
    pub(crate) unreadable: u64,
}

/// The outcome of one stored record: its `outcome` field, else its event's.
pub(crate) fn of_record(body: &[u8]) -> Result<Outcome, record::RecordError> {
    let rec = record::parse(body)?;
    Ok(rec.outcome.unwrap_or_else(|| {
        match crate::event::parse(rec.event.get().as_bytes()) {
            Ok(parsed) => crate::record::outcome(&parsed),
            // `record::parse` checked that the event is an object; this cannot fail on one.
            Err(_) => Outcome::Unknown,
        }
    }))
}

/// Keeps the callbacks of `found` whose outcome `filters` wants, reading the record of each
/// one whose key has no outcome (at most [`RECORDS_AT_ONCE`] at a time). A source that
/// fails otherwise than with a missing object is an error, as a failed listing is.
pub(crate) async fn resolve<S: Source>(
    source: &S,
    found: Vec<Found>,
    filters: &Filters,
) -> Result<Resolved, SourceError> {
    let mut out = Resolved::default();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; found.len()];
    let mut first_error = None;
    let reads = found
        .iter()
        .enumerate()
        .filter(|(_, f)| f.fields.outcome.is_none())
        .map(|(i, f)| async move { (i, source.get(&f.key).await) });
    bounded(reads, RECORDS_AT_ONCE, |(i, got)| match got {
        Ok(body) => {
            out.read += 1;
            match of_record(&body) {
                Ok(o) => outcomes[i] = Some(o),
                Err(_) => out.unreadable += 1,
            }
        }
        Err(SourceError::NotFound { .. }) => out.unreadable += 1,
        Err(e) => {
            first_error.get_or_insert(e);
        }
    })
    .await;
    if let Some(e) = first_error {
        return Err(e);
    }
    out.found = found
        .into_iter()
        .zip(outcomes)
        .filter_map(|(mut f, read)| {
            let outcome = f.fields.outcome.or(read)?;
            f.fields.outcome = Some(outcome);
            filters.wants_outcome(outcome).then_some(f)
        })
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_says_else_its_event() {
        let with = br#"{"outcome":"partial","event":{"EventType":"X"}}"#;
        assert_eq!(of_record(with).ok(), Some(Outcome::Partial));
        // A record of an earlier version: classified from its event.
        let old = br#"{"schema":"mps-cos-backup/record/v1","event":{"EventType":"EditMediaTask",
            "EditMediaTaskEvent":{"TaskId":"e","Status":"FINISH","ErrCode":40000}}}"#;
        assert_eq!(of_record(old).ok(), Some(Outcome::Failed));
        let odd = br#"{"outcome":"sideways","event":{"EventType":"WorkflowTask",
            "WorkflowTaskEvent":{"Status":"PROCESSING"}}}"#;
        assert_eq!(of_record(odd).ok(), Some(Outcome::Running));
        assert!(of_record(b"not json").is_err());
    }
}
