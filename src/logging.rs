//! tracing-subscriber set-up: JSON lines (default) or text, to stdout.

use tracing::Subscriber;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber, writing to stdout (SCF collects it) or stderr (`invoke`, whose stdout carries results).
///
/// A second call leaves the first subscriber in place (tests and `invoke` may both try).
pub fn init(cfg: &LogConfig, to_stderr: bool) {
    let writer = if to_stderr {
        BoxMakeWriter::new(std::io::stderr)
    } else {
        BoxMakeWriter::new(std::io::stdout)
    };
    // Already installed: keep the first one; there is nowhere better to report this.
    let _ = tracing::subscriber::set_global_default(subscriber(cfg, writer));
}

/// The subscriber [`init`] installs, writing to `writer` (exposed so tests can capture lines).
pub fn subscriber<W>(cfg: &LogConfig, writer: W) -> Box<dyn Subscriber + Send + Sync>
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

    #[test]
    fn init_twice_does_not_panic() {
        let cfg = LogConfig {
            format: LogFormat::Json,
            filter: "off".into(),
        };
        init(&cfg, true);
        init(&cfg, false);
    }
}
