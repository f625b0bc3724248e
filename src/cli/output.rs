//! What the commands write: results on stdout, as lines or an aligned table written as
//! its rows come, and notes on stderr, one line each. A closed pipe (`| head`) ends the
//! output quietly; any other write error is the run's failure.

use std::io::{BufWriter, Write};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::error::CliError;
use crate::record::Outcome;

/// A note for the operator: one line on stderr.
pub(super) fn note(text: &str) {
    eprintln!("mps-cos-backup: {}", crate::text::one_line(text));
}

pub(super) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An outcome for a table cell; `-` when the key has none and no record was read.
pub(super) fn opt_outcome(o: Option<Outcome>) -> String {
    o.map_or_else(|| "-".to_string(), |o| o.as_str().to_string())
}

pub(super) fn opt_date(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "-".to_string(), |d| d.to_string())
}

pub(super) fn time_text(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Writes `lines` to stdout. A closed pipe (`| head`) ends the output quietly; any other
/// write error (a full disk) is a one-line error and exit 1, never a silent success.
pub(super) fn emit(lines: impl Iterator<Item = String>) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = lines
        .map(|line| writeln!(out, "{line}"))
        .find(Result::is_err)
        .unwrap_or(Ok(()))
        .and_then(|()| out.flush());
    output_written(written)
}

/// `Ok` for a write that worked or met a closed pipe; else the one-line error, exit 1.
pub(super) fn output_written(written: std::io::Result<()>) -> Result<(), CliError> {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::failed(&format!(
            "cannot write the output: {}",
            crate::text::error_chain(&e)
        ))),
        _ => Ok(()),
    }
}

/// Rows of a table taken to size its columns before the first line is written; later
/// rows keep those widths (a longer cell pushes its line out, the table goes on).
const TABLE_SAMPLE: usize = 256;

/// An aligned table written as its rows come: the columns are sized on the header and
/// the first [`TABLE_SAMPLE`] rows; the last column is not padded.
pub(super) struct Table<W: Write> {
    out: W,
    header: Vec<String>,
    sample: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

impl<W: Write> Table<W> {
    pub(super) fn new(out: W, header: &[&str]) -> Table<W> {
        Table {
            out,
            header: header.iter().map(|h| h.to_string()).collect(),
            sample: Vec::new(),
            widths: None,
        }
    }

    pub(super) fn row(&mut self, row: Vec<String>) -> std::io::Result<()> {
        if self.widths.is_some() {
            return self.write(&row);
        }
        self.sample.push(row);
        if self.sample.len() >= TABLE_SAMPLE {
            self.start()?;
        }
        Ok(())
    }

    /// Sizes the columns on what was sampled and writes it.
    fn start(&mut self) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.sample {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        self.widths = Some(widths);
        let header = self.header.clone();
        self.write(&header)?;
        for r in std::mem::take(&mut self.sample) {
            self.write(&r)?;
        }
        Ok(())
    }

    fn write(&mut self, cells: &[String]) -> std::io::Result<()> {
        let widths = self.widths.as_deref().unwrap_or_default();
        let mut s = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i < last {
                let w = widths.get(i).copied().unwrap_or(0);
                let pad = w.saturating_sub(c.chars().count()) + 2;
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(self.out, "{s}")
    }

    /// Writes what is still sampled and flushes.
    pub(super) fn finish(mut self) -> std::io::Result<()> {
        if self.widths.is_none() {
            self.start()?;
        }
        self.out.flush()
    }
}
