//! `ls`: one line per archived callback the filters want, by date then key, written as
//! the listing goes: an aligned table, or one JSON object a line with `--json`.

use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::error::CliError;
use super::output::{count, note, opt_date, opt_outcome, output_written, time_text, Table};
use super::read::{each_found, filters, setup, FilterArgs, SourceArgs};
use crate::archive::Found;

/// `ls`.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    source: SourceArgs,
    /// One JSON object a line: key, date, event_type, task_id, status, outcome, digest,
    /// size, last_modified
    #[arg(long)]
    json: bool,
}

fn found_json(f: &Found) -> String {
    json!({
        "key": f.key,
        "date": f.fields.date.map(|d| d.to_string()),
        "event_type": f.fields.event_type,
        "task_id": f.fields.task_id,
        "status": f.fields.status,
        "outcome": f.fields.outcome,
        "digest": f.fields.digest,
        "size": f.size,
        "last_modified": time_text(f.last_modified),
    })
    .to_string()
}

/// Remembers the first write error; breaks the listing on it.
fn written(slot: &mut Option<std::io::Error>, r: std::io::Result<()>) -> ControlFlow<()> {
    match r {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            *slot = Some(e);
            ControlFlow::Break(())
        }
    }
}

/// `ls`: one line per archived callback, written as the listing goes.
pub(crate) fn ls(args: LsArgs) -> Result<ExitCode, CliError> {
    let (setup, _) = setup(args.source, None)?;
    let filters = filters(&args.filters, &setup)?;
    let stdout = std::io::stdout();
    let mut error = None;
    let mut n = 0u64;
    if args.json {
        let mut out = BufWriter::new(stdout.lock());
        each_found(&setup, &filters, |f| {
            written(&mut error, writeln!(out, "{}", found_json(&f)))
        })?;
        if error.is_none() {
            error = out.flush().err();
        }
    } else {
        let mut table = Table::new(
            BufWriter::new(stdout.lock()),
            &[
                "DATE",
                "TYPE",
                "STATUS",
                "OUTCOME",
                "SIZE",
                "LAST_MODIFIED",
                "KEY",
            ],
        );
        each_found(&setup, &filters, |f| {
            n += 1;
            let row = vec![
                opt_date(f.fields.date),
                f.fields.event_type.unwrap_or_else(|| "-".into()),
                f.fields.status.unwrap_or_else(|| "-".into()),
                opt_outcome(f.fields.outcome),
                f.size.to_string(),
                time_text(f.last_modified).unwrap_or_else(|| "-".into()),
                f.key,
            ];
            written(&mut error, table.row(row))
        })?;
        if error.is_none() {
            error = table.finish().err();
        }
        if error.is_none() {
            note(&count(n, "callback", "callbacks"));
        }
    }
    output_written(error.map_or(Ok(()), Err))?;
    Ok(ExitCode::SUCCESS)
}
