//! The execution role's credentials: private fields, a `Debug` that hides them.
//!
//! COS and the Cloud API sign with the same keys; both take this type, and nothing but the
//! signers reads the secret. SCF hands temporary keys to each instance at start; they are
//! read once per process (a rejected key ends the process so a fresh instance gets fresh
//! keys).

use std::fmt;

use crate::text::mask_secrets;

/// Secret id, secret key and, for temporary keys, the session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    secret_id: String,
    secret_key: String,
    session_token: Option<String>,
}

impl Credentials {
    /// Credentials from their three parts; an empty token counts as none.
    pub fn new(
        secret_id: impl Into<String>,
        secret_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Credentials {
        Credentials {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            session_token: session_token.filter(|t| !t.is_empty()),
        }
    }

    /// `TENCENTCLOUD_SECRETID`: public, sent in every signature.
    pub(crate) fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// `TENCENTCLOUD_SECRETKEY`: for signers only.
    pub(crate) fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// `TENCENTCLOUD_SESSIONTOKEN`, absent for long-term keys.
    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// Every secret value, for scrubbing text that might echo one back.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        [
            Some(self.secret_key.as_str()),
            self.session_token.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
    }

    /// `text` with the SecretId, the SecretKey and the session token replaced by `***`
    /// wherever a server or a library echoed one back: the one scrubbing rule of every error
    /// path (COS, the Cloud API, deploy). Whole values only ([`mask_secrets`]).
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.scrub_also(text, [])
    }

    /// [`Self::scrub`], also masking `also` (values a request carried, such as a function's
    /// environment).
    pub(crate) fn scrub_also<'a>(
        &'a self,
        text: &str,
        also: impl IntoIterator<Item = &'a str>,
    ) -> String {
        mask_secrets(
            text,
            std::iter::once(self.secret_id.as_str())
                .chain(self.secrets())
                .chain(also),
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &"***")
            .field("secret_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let c = Credentials::new("AKIDidvalue", "keyvalue", Some("tokenvalue".into()));
        let shown = format!("{c:?}");
        for secret in ["AKIDidvalue", "keyvalue", "tokenvalue"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(c.secret_id(), "AKIDidvalue");
        assert_eq!(c.secrets().collect::<Vec<_>>(), ["keyvalue", "tokenvalue"]);
    }

    #[test]
    fn scrub_masks_every_part_and_what_else_is_named() {
        let c = Credentials::new("AKIDidvalue", "keyvalue", Some("tokenvalue".into()));
        assert_eq!(
            c.scrub("id AKIDidvalue key keyvalue token tokenvalue other"),
            "id *** key *** token *** other"
        );
        assert_eq!(c.scrub_also("env v3ry-secret", ["v3ry-secret"]), "env ***");
        let long_term = Credentials::new("AKIDidvalue", "keyvalue", None);
        assert_eq!(long_term.scrub("keyvalue"), "***");
    }

    #[test]
    fn empty_token_is_none() {
        assert_eq!(
            Credentials::new("a", "b", Some(String::new())).session_token(),
            None
        );
    }
}
