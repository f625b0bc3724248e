//! A store in memory, for the handler's own tests: it keeps what it was given and can be
//! told to fail the way a real store fails.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use bytes::Bytes;

use super::{Object, Store, StoreError, Stored};

/// One object as the memory store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    pub(crate) body: Bytes,
    pub(crate) content_type: String,
    pub(crate) metadata: Vec<(String, String)>,
}

/// Objects by key; every write fails while `failure` is set.
#[derive(Default)]
pub(crate) struct MemoryStore {
    objects: Mutex<BTreeMap<String, Kept>>,
    failure: Option<fn() -> StoreError>,
}

impl MemoryStore {
    /// A store whose every write fails with what `failure` makes.
    pub(crate) fn failing(failure: fn() -> StoreError) -> MemoryStore {
        MemoryStore {
            failure: Some(failure),
            ..MemoryStore::default()
        }
    }

    /// What is stored, by key.
    pub(crate) fn objects(&self) -> BTreeMap<String, Kept> {
        match self.objects.lock() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Store for MemoryStore {
    fn location(&self) -> &str {
        "memory"
    }

    async fn put(&self, obj: Object<'_>, _deadline: Instant) -> Result<Stored, StoreError> {
        if let Some(fail) = self.failure {
            return Err(fail());
        }
        let kept = Kept {
            body: obj.body.clone(),
            content_type: obj.content_type.to_string(),
            metadata: obj
                .metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let mut objects = match self.objects.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        objects.insert(obj.key.to_string(), kept);
        Ok(Stored {
            etag: format!("\"{:x}\"", obj.body.len()),
            attempts: 1,
        })
    }
}
