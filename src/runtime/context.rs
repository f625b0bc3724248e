//! The facts the runtime API gives about one invocation, read from `next`'s headers.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tracing::warn;

use crate::transport::HeaderMap;

/// One invocation, as the runtime API described it.
#[derive(Debug, Clone)]
pub struct Context {
    /// `request_id` header (empty when absent).
    pub request_id: String,
    /// `memory_limit_in_mb` header.
    pub memory_limit_mb: Option<u64>,
    /// `time_limit_in_ms` header.
    pub time_limit: Duration,
    /// When the event arrived (monotonic).
    pub arrived: Instant,
    /// When the event arrived (wall clock).
    pub(crate) received_at: DateTime<Utc>,
    /// Time by which the function must be done: arrival + time limit - safety margin.
    pub deadline: Instant,
}

/// Time limit assumed when `time_limit_in_ms` is missing or unusable (SCF's smallest common default).
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_millis(3000);

/// Margin kept between the function's deadline and the platform's kill time, so the answer
/// can still be posted: 10 % of the time limit, clamped to [50 ms, 500 ms].
pub fn safety_margin(time_limit: Duration) -> Duration {
    (time_limit / 10).clamp(Duration::from_millis(50), Duration::from_millis(500))
}

impl Context {
    /// The context of an event whose headers are `headers` (names match case-insensitively:
    /// some documentation writes `Request_Id`). The platform sends no deadline: it is the
    /// arrival plus the time limit.
    pub(crate) fn from_headers(
        headers: &HeaderMap,
        arrived: Instant,
        received_at: DateTime<Utc>,
    ) -> Context {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let request_id = text("request_id").unwrap_or_default().to_string();
        let memory_limit_mb = text("memory_limit_in_mb").and_then(|v| v.parse().ok());
        let time_limit = match text("time_limit_in_ms").map(|v| (v, v.parse::<u64>())) {
            Some((_, Ok(ms))) if ms > 0 => Duration::from_millis(ms),
            Some((raw, _)) => {
                warn!(
                    time_limit_in_ms = raw,
                    default_ms = DEFAULT_TIME_LIMIT.as_millis() as u64,
                    "unusable time_limit_in_ms header; assuming the default"
                );
                DEFAULT_TIME_LIMIT
            }
            None => {
                warn!(
                    default_ms = DEFAULT_TIME_LIMIT.as_millis() as u64,
                    "no time_limit_in_ms header; assuming the default"
                );
                DEFAULT_TIME_LIMIT
            }
        };
        Context {
            request_id,
            memory_limit_mb,
            time_limit,
            arrived,
            received_at,
            deadline: arrived + time_limit.saturating_sub(safety_margin(time_limit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        h
    }

    #[test]
    fn margin_is_ten_percent_clamped() {
        assert_eq!(
            safety_margin(Duration::from_millis(100)),
            Duration::from_millis(50)
        );
        assert_eq!(
            safety_margin(Duration::from_millis(3000)),
            Duration::from_millis(300)
        );
        assert_eq!(
            safety_margin(Duration::from_secs(900)),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn context_from_headers() {
        let now = Instant::now();
        let ctx = Context::from_headers(
            &headers(&[
                ("request_id", " abc-1 "),
                ("memory_limit_in_mb", "128"),
                ("time_limit_in_ms", "2000"),
            ]),
            now,
            Utc::now(),
        );
        assert_eq!(ctx.request_id, "abc-1");
        assert_eq!(ctx.memory_limit_mb, Some(128));
        assert_eq!(ctx.time_limit, Duration::from_millis(2000));
        assert_eq!(ctx.deadline, now + Duration::from_millis(1800));
    }

    #[test]
    fn missing_or_bad_time_limit_uses_default() {
        let now = Instant::now();
        for h in [
            headers(&[]),
            headers(&[("time_limit_in_ms", "soon")]),
            headers(&[("time_limit_in_ms", "0")]),
            headers(&[("time_limit_in_ms", "-5")]),
        ] {
            let ctx = Context::from_headers(&h, now, Utc::now());
            assert_eq!(ctx.time_limit, DEFAULT_TIME_LIMIT);
            assert_eq!(ctx.deadline, now + Duration::from_millis(2700));
            assert_eq!(ctx.request_id, "");
            assert_eq!(ctx.memory_limit_mb, None);
        }
    }
}
