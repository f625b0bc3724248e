//! How HTTP callbacks through the Function URL authenticate: `CALLBACK_TOKEN` (a secret in
//! the `NotifyUrl`'s query), `CALLBACK_NOTIFY_KEY` (MPS's `Sign`) and
//! `CALLBACK_ALLOW_UNSIGNED`. Neither secret is ever shown.

use crate::forward::webhook::NotifyKey;
use crate::http::auth::{CallbackAuth, CallbackToken};

use super::env::{err, get_set, switch, ConfigError};

/// Shortest `CALLBACK_TOKEN` accepted: it is the one secret that covers the body.
const MIN_TOKEN_LEN: usize = 16;

/// `CALLBACK_TOKEN`, `CALLBACK_NOTIFY_KEY` and `CALLBACK_ALLOW_UNSIGNED`. The token travels
/// in the `NotifyUrl`'s query, so it is limited to characters a URL carries unescaped, and it
/// must be long enough to be a secret.
pub(super) fn callback_config<F>(get: &F) -> Result<CallbackAuth, ConfigError>
where
    F: Fn(&str) -> Option<String>,
{
    let token = match get_set(get, "CALLBACK_TOKEN") {
        None => None,
        Some(t) => {
            let unreserved = t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if !unreserved || t.len() < MIN_TOKEN_LEN {
                return Err(err(
                    "CALLBACK_TOKEN",
                    &format!(
                        "must be at least {MIN_TOKEN_LEN} letters, digits, '-', '.', '_' or '~' \
                         (value not shown); e.g. the output of `openssl rand -hex 24`"
                    ),
                ));
            }
            CallbackToken::new(t)
        }
    };
    let notify_key = get_set(get, "CALLBACK_NOTIFY_KEY").and_then(NotifyKey::new);
    let allow_unsigned = switch(get, "CALLBACK_ALLOW_UNSIGNED", false)?;
    Ok(CallbackAuth {
        token,
        notify_key,
        allow_unsigned,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::test_env::{fails_on, ok};

    #[test]
    fn callback_settings_are_validated_and_never_shown() {
        // HTTP callbacks: a token must be a long, URL-safe secret; none of the three is shown.
        let c = ok(&[
            ("CALLBACK_TOKEN", "tok-0123456789abcdef"),
            ("CALLBACK_NOTIFY_KEY", "callbackKeyValue9"),
            ("CALLBACK_ALLOW_UNSIGNED", "on"),
        ]);
        assert!(c.callback.token.is_some() && c.callback.notify_key.is_some());
        assert!(c.callback.allow_unsigned);
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok-0123456789abcdef") && !shown.contains("callbackKeyValue9"));
        assert!(!ok(&[]).callback.allow_unsigned);
        for bad in ["short", "has space 0123456789", "amp&0123456789abcdef"] {
            let line = fails_on("CALLBACK_TOKEN", &[("CALLBACK_TOKEN", bad)]);
            assert!(!line.contains(bad), "{line}");
        }
        fails_on(
            "CALLBACK_ALLOW_UNSIGNED",
            &[("CALLBACK_ALLOW_UNSIGNED", "sometimes")],
        );
    }
}
