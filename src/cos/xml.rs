//! Reading COS's XML answers: the one place that parses XML (quick-xml), for listings and
//! error bodies alike, so entities, CDATA, comments and element order are handled once.

use serde::de::DeserializeOwned;

/// Why a body is not the document expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum XmlError {
    /// Not UTF-8.
    NotUtf8,
    /// Its root element is another (a proxy's HTML page, say), or there is none.
    WrongRoot,
    /// The root is right but the document does not read as `T`.
    Invalid(String),
}

/// Reads `body` as the document whose root element is `root` into `T`. The deserializer
/// itself ignores the root's name, so it is checked first: an HTML page must not read as an
/// empty document.
pub(crate) fn read<T: DeserializeOwned>(body: &[u8], root: &str) -> Result<T, XmlError> {
    let text = std::str::from_utf8(body).map_err(|_| XmlError::NotUtf8)?;
    if root_name(text).as_deref() != Some(root) {
        return Err(XmlError::WrongRoot);
    }
    quick_xml::de::from_str(text).map_err(|e| XmlError::Invalid(e.to_string()))
}

/// The name of the document's root element.
fn root_name(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                return Some(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}
