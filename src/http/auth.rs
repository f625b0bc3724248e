//! Who may write to the archive through the Function URL.
//!
//! The URL is public (`AuthType` `NONE`: MPS cannot sign CAM requests), so a request proves
//! itself with what MPS can send: a secret `token` in the `NotifyUrl`'s query
//! (`CALLBACK_TOKEN`) and MPS's `Sign` (`CALLBACK_NOTIFY_KEY`). The Sign covers only the
//! `Timestamp` (an expiry, sending time + 10 minutes), not the body: whoever saw one
//! notification can send another body with its Sign until it expires. The token closes that
//! gap, which is why README recommends both.
//!
//! Every comparison with a secret takes the same time wherever the first difference is
//! (`subtle`), so response times do not reveal a secret byte by byte. Refusals name what was
//! wrong, never the expected value.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::forward::webhook::{mps_sign, NotifyKey};

/// Clock skew allowed past a Sign's `Timestamp` (its expiry) before it counts as expired.
pub(crate) const SIGN_SKEW_SECS: u64 = 300;

/// A secret the `NotifyUrl` carries as its `token` query parameter. `Debug` hides it.
#[derive(Clone)]
pub struct CallbackToken(String);

impl CallbackToken {
    /// The token, or `None` when empty (an empty variable means no token).
    pub(crate) fn new(token: impl Into<String>) -> Option<CallbackToken> {
        let token = token.into();
        (!token.is_empty()).then_some(CallbackToken(token))
    }
}

impl fmt::Debug for CallbackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackToken(***)")
    }
}

/// How HTTP callbacks authenticate: `CALLBACK_TOKEN`, `CALLBACK_NOTIFY_KEY`,
/// `CALLBACK_ALLOW_UNSIGNED`.
#[derive(Debug, Clone, Default)]
pub struct CallbackAuth {
    /// The `token` query parameter every request must carry.
    pub token: Option<CallbackToken>,
    /// The MPS `NotifyKey` every notification's `Sign` must be made with.
    pub notify_key: Option<NotifyKey>,
    /// Accept requests when neither of the two is configured.
    pub allow_unsigned: bool,
}

/// Why a request was refused (401). `Display` is the reason the caller and the log get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthRefusal {
    /// Neither a token nor a notify key is configured, and unsigned callbacks are off.
    #[error(
        "unsigned callbacks are refused: the function has neither CALLBACK_TOKEN nor \
         CALLBACK_NOTIFY_KEY (or CALLBACK_ALLOW_UNSIGNED=on)"
    )]
    NotConfigured,
    /// No `token` query parameter.
    #[error("token missing")]
    TokenMissing,
    /// A `token` that is not the configured one.
    #[error("token wrong")]
    TokenWrong,
    /// No `Sign` or no usable `Timestamp` in the notification.
    #[error("signature missing (Sign and Timestamp are required)")]
    SignMissing,
    /// A `Sign` that does not match `Timestamp` and the key.
    #[error("signature wrong")]
    SignWrong,
    /// A valid `Sign` whose `Timestamp` (plus the allowed skew) has passed: a replay.
    #[error("signature expired")]
    SignExpired,
}

impl CallbackAuth {
    /// Whether the request's query token passes (checked before the body is read).
    pub(crate) fn check_token(&self, token: Option<&str>) -> Result<(), AuthRefusal> {
        if self.token.is_none() && self.notify_key.is_none() && !self.allow_unsigned {
            return Err(AuthRefusal::NotConfigured);
        }
        let Some(expected) = &self.token else {
            return Ok(());
        };
        let given = token.ok_or(AuthRefusal::TokenMissing)?;
        if bool::from(given.as_bytes().ct_eq(expected.0.as_bytes())) {
            Ok(())
        } else {
            Err(AuthRefusal::TokenWrong)
        }
    }

    /// Whether the notification's `Sign` passes at `now_unix`: MD5 of `Timestamp` and the
    /// key (hex, any case), and `Timestamp` + [`SIGN_SKEW_SECS`] not yet past.
    pub(crate) fn check_sign(
        &self,
        timestamp: Option<u64>,
        sign: Option<&str>,
        now_unix: u64,
    ) -> Result<(), AuthRefusal> {
        let Some(key) = &self.notify_key else {
            return Ok(());
        };
        let (Some(timestamp), Some(sign)) = (timestamp, sign) else {
            return Err(AuthRefusal::SignMissing);
        };
        let expected = mps_sign(timestamp, key);
        let given = sign.to_ascii_lowercase();
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(AuthRefusal::SignWrong);
        }
        // Checked after the Sign: an expired but forged request is reported as forged.
        if timestamp.saturating_add(SIGN_SKEW_SECS) < now_unix {
            return Err(AuthRefusal::SignExpired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference vector: `Timestamp` 1764000600, key `hs-notify-key`.
    const TS: u64 = 1_764_000_600;
    const SIGN: &str = "a485038d35a648a9b1c6615d4ad4211f";

    fn auth(token: Option<&str>, key: Option<&str>, unsigned: bool) -> CallbackAuth {
        CallbackAuth {
            token: token.and_then(CallbackToken::new),
            notify_key: key.and_then(NotifyKey::new),
            allow_unsigned: unsigned,
        }
    }

    #[test]
    fn nothing_configured_refuses_unless_unsigned_is_allowed() {
        let none = auth(None, None, false);
        assert_eq!(none.check_token(None), Err(AuthRefusal::NotConfigured));
        assert_eq!(none.check_token(Some("x")), Err(AuthRefusal::NotConfigured));
        let open = auth(None, None, true);
        assert_eq!(open.check_token(None), Ok(()));
        assert_eq!(open.check_sign(None, None, TS), Ok(()));
    }

    #[test]
    fn token_must_match_exactly() {
        let a = auth(Some("s3cret-token-value"), None, false);
        assert_eq!(a.check_token(Some("s3cret-token-value")), Ok(()));
        assert_eq!(a.check_token(None), Err(AuthRefusal::TokenMissing));
        for wrong in ["", "s3cret-token-valuE", "s3cret-token-value ", "s3cret"] {
            assert_eq!(a.check_token(Some(wrong)), Err(AuthRefusal::TokenWrong));
        }
        // A key alone needs no token.
        assert_eq!(auth(None, Some("k"), false).check_token(None), Ok(()));
    }

    #[test]
    fn sign_follows_the_reference_vector() {
        let a = auth(None, Some("hs-notify-key"), false);
        assert_eq!(a.check_sign(Some(TS), Some(SIGN), TS - 600), Ok(()));
        let upper = SIGN.to_ascii_uppercase();
        assert_eq!(a.check_sign(Some(TS), Some(&upper), TS), Ok(()));
        // The skew: 300 s past the expiry still passes, 301 s does not.
        assert_eq!(a.check_sign(Some(TS), Some(SIGN), TS + 300), Ok(()));
        assert_eq!(
            a.check_sign(Some(TS), Some(SIGN), TS + 301),
            Err(AuthRefusal::SignExpired)
        );
        assert_eq!(
            a.check_sign(Some(TS + 1), Some(SIGN), TS),
            Err(AuthRefusal::SignWrong)
        );
        assert_eq!(
            a.check_sign(Some(TS), Some(&SIGN[..31]), TS),
            Err(AuthRefusal::SignWrong)
        );
        let other_key = auth(None, Some("another-key"), false);
        assert_eq!(
            other_key.check_sign(Some(TS), Some(SIGN), TS),
            Err(AuthRefusal::SignWrong)
        );
        assert_eq!(
            a.check_sign(None, Some(SIGN), TS),
            Err(AuthRefusal::SignMissing)
        );
        assert_eq!(
            a.check_sign(Some(TS), None, TS),
            Err(AuthRefusal::SignMissing)
        );
        // A forged Sign on an old Timestamp is reported as forged, not as expired.
        assert_eq!(
            a.check_sign(Some(TS), Some("0".repeat(32).as_str()), TS + 10_000),
            Err(AuthRefusal::SignWrong)
        );
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let a = auth(Some("tokenValue123"), Some("keyValue456"), false);
        let shown = format!("{a:?}");
        assert!(
            !shown.contains("tokenValue123") && !shown.contains("keyValue456"),
            "{shown}"
        );
    }
}
