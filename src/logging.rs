//! tracing-subscriber set-up: JSON lines (default) or text, to stdout.

use tracing::Subscriber;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// One JSON object per line (default).
    Json,
    /// Human-readable lines.
    Text,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub(crate) struct LogConfig {
    /// `LOG_FORMAT`.
    pub(crate) format: LogFormat,
    /// Filter directive: `RUST_LOG` if set, else `LOG_LEVEL`, else `info`.
    pub(crate) filter: String,
}

/// A log setting that cannot be used: the variable and why, never more than one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SettingError {
    /// `LOG_FORMAT`, `RUST_LOG` or `LOG_LEVEL`.
    pub(crate) var: &'static str,
    /// What is wrong with it.
    pub(crate) reason: String,
}

impl LogConfig {
    /// Validates the values of `LOG_FORMAT`, `RUST_LOG` and `LOG_LEVEL` (unset = `None`).
    pub(crate) fn parse(
        format: Option<&str>,
        rust_log: Option<&str>,
        log_level: Option<&str>,
    ) -> Result<LogConfig, SettingError> {
        let format = match format {
            None => LogFormat::Json,
            Some(v) => parse_format(v).ok_or_else(|| SettingError {
                var: "LOG_FORMAT",
                reason: format!("{v:?} is not `json` or `text`"),
            })?,
        };
        let filter = if let Some(f) = rust_log {
            check_filter("RUST_LOG", f)?
        } else if let Some(f) = log_level {
            check_level_list(f)?;
            check_filter("LOG_LEVEL", f)?
        } else {
            "info".to_string()
        };
        Ok(LogConfig { format, filter })
    }

    /// Like [`LogConfig::parse`], but anything unusable falls back to the default silently: the
    /// logger is needed before validation can report anything.
    pub(crate) fn parse_lenient(
        format: Option<&str>,
        rust_log: Option<&str>,
        log_level: Option<&str>,
    ) -> LogConfig {
        let format = format.and_then(parse_format).unwrap_or(LogFormat::Json);
        let filter = [("RUST_LOG", rust_log), ("LOG_LEVEL", log_level)]
            .into_iter()
            .filter_map(|(var, f)| f.map(|f| (var, f)))
            .find(|(var, f)| {
                EnvFilter::try_new(f).is_ok()
                    && (*var != "LOG_LEVEL" || check_level_list(f).is_ok())
            })
            .map_or_else(|| "info".to_string(), |(_, f)| f.to_string());
        LogConfig { format, filter }
    }
}

fn parse_format(v: &str) -> Option<LogFormat> {
    match v.trim().to_ascii_lowercase().as_str() {
        "json" => Some(LogFormat::Json),
        "text" => Some(LogFormat::Text),
        _ => None,
    }
}

/// `LOG_LEVEL` is meant as a level: every directive must name one, because EnvFilter reads a
/// bare typo like `infoo` as "only target `infoo`", which would silently switch all logging off.
fn check_level_list(f: &str) -> Result<(), SettingError> {
    const LEVELS: [&str; 12] = [
        "off", "error", "warn", "info", "debug", "trace", "0", "1", "2", "3", "4", "5",
    ];
    for directive in f.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive.rsplit_once('=').map_or(directive, |(_, l)| l);
        if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(SettingError {
                var: "LOG_LEVEL",
                reason: format!(
                    "{f:?}: {directive:?} names no level (off, error, warn, info, debug, trace)"
                ),
            });
        }
    }
    Ok(())
}

fn check_filter(var: &'static str, f: &str) -> Result<String, SettingError> {
    match EnvFilter::try_new(f) {
        Ok(_) => Ok(f.to_string()),
        Err(e) => Err(SettingError {
            var,
            reason: format!("{f:?} is not a tracing filter ({e})"),
        }),
    }
}

/// Installs the global subscriber, writing to stdout (SCF collects it) or stderr (`invoke`, whose stdout carries results).
///
/// A second call leaves the first subscriber in place (tests and `invoke` may both try).
pub(crate) fn init(cfg: &LogConfig, to_stderr: bool) {
    let writer = if to_stderr {
        BoxMakeWriter::new(std::io::stderr)
    } else {
        BoxMakeWriter::new(std::io::stdout)
    };
    // Already installed: keep the first one; there is nowhere better to report this.
    let _ = tracing::subscriber::set_global_default(subscriber(cfg, writer));
}

/// The subscriber [`init`] installs, writing to `writer` (exposed so tests can capture lines).
pub(crate) fn subscriber<W>(cfg: &LogConfig, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // The filter was validated with the configuration; an unusable one here can only come
    // from a caller that skipped validation, and `info` is the documented default.
    let filter = EnvFilter::try_new(&cfg.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    match cfg.format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.finish()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    fn capture(cfg: &LogConfig, f: impl FnOnce()) -> String {
        let out = Capture::default();
        tracing::subscriber::with_default(subscriber(cfg, out.clone()), f);
        let bytes = out.0.lock().expect("lock").clone();
        String::from_utf8(bytes).expect("utf-8 log output")
    }

    #[test]
    fn json_lines_are_flat_objects_with_span_fields() {
        let cfg = LogConfig {
            format: LogFormat::Json,
            filter: "info".into(),
        };
        let out = capture(&cfg, || {
            let span = tracing::info_span!("invocation", request_id = "req-1");
            let _g = span.enter();
            tracing::info!(outcome = "response", duration_ms = 12u64, "invocation done");
            tracing::debug!("filtered out");
            tracing::warn!("second\nline");
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        let first: serde_json::Value = serde_json::from_str(lines[0]).expect("json line");
        assert_eq!(first["message"], "invocation done");
        assert_eq!(first["outcome"], "response");
        assert_eq!(first["duration_ms"], 12);
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["span"]["request_id"], "req-1");
        assert!(
            first.get("fields").is_none(),
            "fields are flattened: {first}"
        );
        let second: serde_json::Value = serde_json::from_str(lines[1]).expect("json line");
        assert_eq!(second["message"], "second\nline");
        assert!(!out.contains('\u{1b}'), "no ANSI escapes");
    }

    #[test]
    fn text_format_and_filter() {
        let cfg = LogConfig {
            format: LogFormat::Text,
            filter: "warn".into(),
        };
        let out = capture(&cfg, || {
            tracing::info!("quiet");
            tracing::warn!(key = "v", "loud");
        });
        assert!(!out.contains("quiet"), "{out}");
        assert!(
            out.contains("WARN") && out.contains("loud") && out.contains("key=\"v\""),
            "{out}"
        );
        assert!(serde_json::from_str::<serde_json::Value>(out.trim()).is_err());
        assert!(!out.contains('\u{1b}'), "no ANSI escapes");
    }

    /// `init` installs the global subscriber; a second call neither panics nor replaces it.
    /// No other test in this crate installs a global subscriber, so the first call here is
    /// the one that takes effect. Its filter is `off` so the suite's output stays clean.
    #[test]
    fn a_second_init_keeps_the_first_subscriber() {
        let off = LogConfig {
            format: LogFormat::Json,
            filter: "off".into(),
        };
        init(&off, true);
        assert!(
            tracing::dispatcher::has_been_set(),
            "init installs a subscriber"
        );
        assert!(
            !tracing::enabled!(tracing::Level::ERROR),
            "its filter is `off`"
        );

        let everything = LogConfig {
            format: LogFormat::Json,
            filter: "trace".into(),
        };
        init(&everything, false);
        assert!(
            !tracing::enabled!(tracing::Level::ERROR),
            "the second init replaced the first subscriber"
        );
    }
}
