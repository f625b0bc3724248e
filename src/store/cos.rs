//! The archive's store in production: one COS bucket.

use std::time::Instant;

use super::{Object, Store, StoreError, Stored};
use crate::cos::{CosClient, PutObject};

impl Store for CosClient {
    fn location(&self) -> &str {
        self.bucket().name()
    }

    async fn put(&self, obj: Object<'_>, deadline: Instant) -> Result<Stored, StoreError> {
        let put = PutObject {
            key: obj.key,
            body: obj.body,
            content_type: obj.content_type,
            metadata: obj.metadata,
        };
        let out = self.put_object(&put, deadline).await?;
        Ok(Stored {
            etag: out.etag,
            attempts: out.attempts,
        })
    }
}
