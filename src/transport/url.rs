//! The one parser of URLs given in configuration, and the `Host` header a request to a URI
//! sends (what signers sign and error lines name).

use http::Uri;

/// What a configured URL may carry after its host and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlShape {
    /// A base URL: nothing after the authority but an optional `/` (endpoints).
    Base,
    /// A path and a query too (webhook targets).
    WithPath,
}

/// Why a configured URL cannot be used. `Display` is the reason alone, never the URL (a
/// query or userinfo may hold a secret): callers name the variable or entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UrlError {
    /// A `#...` part: never sent, so it can mean nothing to the receiver.
    #[error("a URL fragment (#...) is never sent; remove it")]
    Fragment,
    /// Spaces or control characters.
    #[error("a URL cannot contain spaces or control characters")]
    Whitespace,
    /// Not a URI at all.
    #[error("not a valid URL: {0}")]
    Invalid(String),
    /// Another scheme than `http` or `https`, or none.
    #[error("not an absolute http or https URL")]
    Scheme,
    /// `user:password@host`: not sent by the HTTP layer, and a secret in every log line.
    #[error(
        "credentials in a URL (user:password@) are not sent; use a secret in the query instead"
    )]
    UserInfo,
    /// No host.
    #[error("the URL has no host")]
    NoHost,
    /// A port that is not one.
    #[error("{0}")]
    Port(String),
    /// A base URL with a path or a query.
    #[error("a base URL must not have a path or query")]
    NotBase,
}

/// The one parser of URLs given in configuration (`COS_ENDPOINT`, the Cloud API endpoints,
/// webhook targets): `http` or `https`, a host, a real port, no userinfo, no fragment, no
/// whitespace, and for a [`UrlShape::Base`] nothing after the authority but `/`.
pub(crate) fn parse_url(raw: &str, shape: UrlShape) -> Result<Uri, UrlError> {
    let raw = raw.trim();
    // The URI type refuses a fragment with an unhelpful message: name it first.
    if raw.contains('#') {
        return Err(UrlError::Fragment);
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::Whitespace);
    }
    let uri: Uri = raw
        .parse()
        .map_err(|e: http::uri::InvalidUri| UrlError::Invalid(e.to_string()))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(UrlError::Scheme);
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(UrlError::UserInfo);
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    check_uri(&uri).map_err(UrlError::Port)?;
    if shape == UrlShape::Base && (uri.query().is_some() || !matches!(uri.path(), "" | "/")) {
        return Err(UrlError::NotBase);
    }
    Ok(uri)
}

/// Whether a request can go to `uri` exactly as written: an `http` or `https` scheme, a
/// host, and a port that is a port. `http::Uri` accepts `host:99999` and then reports no
/// port at all, which would silently send to the scheme's default port instead.
pub(crate) fn check_uri(uri: &Uri) -> Result<(), String> {
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
        return Err("the URI needs an http or https scheme and a host".into());
    }
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let port = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => host_port.rsplit_once(':').map(|(_, p)| p),
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err("the URI's port is not a number from 0 to 65535".into());
    }
    Ok(())
}

/// `host`, or `host:port` when the port is not the scheme's default: the `Host` header
/// sent, and so the value signers must sign.
pub(crate) fn host_header(uri: &Uri) -> Option<String> {
    let host = uri.host()?;
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    Some(match uri.port_u16() {
        Some(port) if Some(port) != default_port => format!("{host}:{port}"),
        _ => host.to_string(),
    })
}

/// An IPv6 literal without its URI brackets.
pub(super) fn strip_brackets(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_urls_follow_one_set_of_rules() {
        use UrlShape::{Base, WithPath};
        for ok in [
            "https://h.example",
            "http://127.0.0.1:9000/",
            " https://[::1]:8443 ",
        ] {
            assert!(parse_url(ok, Base).is_ok(), "{ok}");
        }
        assert!(parse_url("https://h.example/hook?token=t", WithPath).is_ok());
        let cases = [
            ("https://h.example/x#frag", WithPath, UrlError::Fragment),
            ("https://h.example/a b", WithPath, UrlError::Whitespace),
            ("ftp://h.example", Base, UrlError::Scheme),
            ("h.example", Base, UrlError::Scheme),
            ("https://u:p@h.example", Base, UrlError::UserInfo),
            ("https://h.example/x", Base, UrlError::NotBase),
            ("https://h.example/?q=1", Base, UrlError::NotBase),
        ];
        for (raw, shape, want) in cases {
            assert_eq!(parse_url(raw, shape), Err(want), "{raw}");
        }
        assert!(matches!(
            parse_url("https://h.example:99999", Base),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            parse_url("https://", Base),
            Err(UrlError::Invalid(_) | UrlError::NoHost)
        ));
        // The reason never carries the URL (a query or userinfo may hold a secret).
        let e = parse_url("https://user:pw9X@h.example/?k=s3kr1t", WithPath).unwrap_err();
        assert!(!e.to_string().contains("pw9X") && !e.to_string().contains("s3kr1t"));
    }

    #[test]
    fn host_header_has_a_port_only_when_not_default() {
        let h = |u: &str| host_header(&u.parse::<Uri>().expect("uri"));
        assert_eq!(
            h("https://b-1.cos.ap-x.myqcloud.com/k").as_deref(),
            Some("b-1.cos.ap-x.myqcloud.com")
        );
        assert_eq!(h("https://b:443/").as_deref(), Some("b"));
        assert_eq!(h("http://127.0.0.1:80/").as_deref(), Some("127.0.0.1"));
        assert_eq!(
            h("http://127.0.0.1:9000/").as_deref(),
            Some("127.0.0.1:9000")
        );
        assert_eq!(h("https://[::1]:8443/").as_deref(), Some("[::1]:8443"));
    }

    #[test]
    fn ports_out_of_range_and_missing_hosts_are_refused() {
        let check = |u: &str| check_uri(&u.parse::<Uri>().expect("uri"));
        assert!(check("https://h.example:99999/x").is_err());
        assert!(check("http://h.example:65535/x").is_ok());
        assert!(check("https://h.example/x").is_ok());
        assert!(check("https://[::1]:8443/x").is_ok());
        assert!(check("https://[::1]:99999/x").is_err());
        assert!(check("ftp://h.example/x").is_err());
        assert!(check("/relative").is_err());
    }
}
