//! `get`: one archived record, or only its event, on stdout: indented on a terminal, the
//! stored line otherwise; a record that no longer matches the digest in its key is
//! printed all the same, with a warning, exit 1.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;

use super::error::CliError;
use super::output::output_written;
use super::read::{setup, source_failed, SourceArgs};
use crate::archive::{record, Source};

/// `get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Object key, as `ls` shows it
    #[arg(value_name = "KEY")]
    key: String,
    /// Print only the archived event (the callback as received, credentials masked)
    #[arg(long)]
    event: bool,
    #[command(flatten)]
    source: SourceArgs,
}

/// `text` (JSON, already checked) indented two spaces a level: only whitespace between
/// tokens changes, so keys keep their order and numbers and strings their exact text.
fn pretty_json(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b' ', depth * 2));
    };
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        i += 1;
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b' ' | b'\n' | b'\r' | b'\t' => {}
            b'"' => {
                in_string = true;
                out.push(c);
            }
            b'{' | b'[' => {
                out.push(c);
                // An empty object or array stays on its line.
                let next = text[i..].iter().position(|b| !b.is_ascii_whitespace());
                let close = if c == b'{' { b'}' } else { b']' };
                if next.is_some_and(|n| text[i + n] == close) {
                    out.push(close);
                    i += next.unwrap_or(0) + 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                newline(&mut out, depth);
                out.push(c);
            }
            b',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(c),
        }
    }
    (depth == 0 && !in_string).then_some(out)
}

/// `get`: one record, or its event, on stdout: indented when stdout is a terminal, else
/// one line.
pub(crate) fn get(args: GetArgs) -> Result<ExitCode, CliError> {
    let (setup, _) = setup(args.source, None)?;
    let body = setup
        .rt
        .block_on(setup.source.get(&args.key))
        .map_err(source_failed)?;
    let rec = record::parse(&body).map_err(|e| CliError::failed(&e.about(&args.key)))?;
    // A key the template cannot read has no digest to hold the record to.
    let modified = match setup.layout.template.read(&setup.layout.prefix, &args.key) {
        None => false,
        Some(fields) => record::is_modified(rec.event, &fields.digest)
            .map_err(|e| CliError::failed(&e.about(&args.key)))?,
    };
    let text: &[u8] = if args.event {
        rec.event.get().as_bytes()
    } else {
        body.trim_ascii_end()
    };
    let stdout = std::io::stdout();
    // For a person, indented; for a pipe, the stored line as it is.
    let pretty = if stdout.is_terminal() {
        pretty_json(text)
    } else {
        None
    };
    let mut out = stdout.lock();
    let written = out
        .write_all(pretty.as_deref().unwrap_or(text))
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    output_written(written)?;
    if modified {
        return Err(CliError::failed(&format!(
            "warning: record {:?} is modified: its content no longer matches the digest in its key",
            args.key
        )));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::pretty_json;

    #[test]
    fn pretty_json_changes_only_whitespace() {
        let text = br#"{"z":1.50,"a":{"s":"x\"y{},[]:","e":{},"l":[],"n":[1,123456789012345678901234567890]}}"#;
        let pretty = String::from_utf8(pretty_json(text).unwrap()).unwrap();
        assert_eq!(
            pretty,
            "{\n  \"z\": 1.50,\n  \"a\": {\n    \"s\": \"x\\\"y{},[]:\",\n    \"e\": {},\n    \"l\": [],\n    \"n\": [\n      1,\n      123456789012345678901234567890\n    ]\n  }\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            back,
            serde_json::from_slice::<serde_json::Value>(text).unwrap()
        );
    }
}
