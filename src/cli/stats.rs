//! `stats`: how many archived callbacks per date, event type, status and outcome (counters
//! only: nothing else is held), as a table with a total or one JSON object a line.

use std::io::BufWriter;
use std::ops::ControlFlow;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::error::CliError;
use super::output::{emit, opt_date, opt_outcome, output_written, Table};
use super::read::{each_found, filters, setup, FilterArgs, SourceArgs};
use crate::archive::{self, StatRow};

/// `stats`.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// One JSON object a line: date, event_type, status, outcome, count
    #[arg(long)]
    json: bool,
}

/// `stats`: counts per date, event type, status and outcome (counters only: nothing else
/// is held).
pub(crate) fn stats(args: StatsArgs) -> Result<ExitCode, CliError> {
    let (setup, _) = setup(args.source, None)?;
    let filters = filters(&args.filters, &setup)?;
    let mut counter = archive::Counter::default();
    each_found(&setup, &filters, |f| {
        counter.add(&f);
        ControlFlow::Continue(())
    })?;
    let rows = counter.rows();
    if args.json {
        emit(rows.iter().map(|r: &StatRow| {
            json!({
                "date": r.date.map(|d| d.to_string()),
                "event_type": r.event_type,
                "status": r.status,
                "outcome": r.outcome,
                "count": r.count,
            })
            .to_string()
        }))?;
    } else {
        let mut table = Table::new(
            BufWriter::new(std::io::stdout().lock()),
            &["DATE", "TYPE", "STATUS", "OUTCOME", "COUNT"],
        );
        let total: u64 = rows.iter().map(|r| r.count).sum();
        let written = rows
            .into_iter()
            .map(|r| {
                vec![
                    opt_date(r.date),
                    r.event_type.unwrap_or_else(|| "-".into()),
                    r.status.unwrap_or_else(|| "-".into()),
                    opt_outcome(r.outcome),
                    r.count.to_string(),
                ]
            })
            .chain(std::iter::once(vec![
                "total".into(),
                String::new(),
                String::new(),
                String::new(),
                total.to_string(),
            ]))
            .try_for_each(|r| table.row(r))
            .and_then(|()| table.finish());
        output_written(written)?;
    }
    Ok(ExitCode::SUCCESS)
}
