//! Object keys: `COS_KEY_TEMPLATE` rendered from an event's type, task, status, date and digest.

/// A parsed `COS_KEY_TEMPLATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
}

/// Why a template or a key is unusable.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// Template problem.
    #[error("{0}")]
    Template(String),
}

impl KeyTemplate {
    /// Parses and validates a template (must contain `{digest}`).
    pub fn parse(_template: &str) -> Result<KeyTemplate, LayoutError> {
        todo!()
    }
}
