//! Keys as files: the local mirror (`DIR/<key>`) that `invoke` without a bucket writes and
//! the readers read.
//!
//! A key becomes the path `root/<key>` only when it obeys the archive's key rules
//! ([`check_archive_key`]): no absolute path, no empty, `.` or `..` segment, no backslash or
//! control character, so no key can leave the directory. Writes go through temporary files
//! named with [`TEMP_PREFIX`], which readers of the mirror skip.

use std::path::{Path, PathBuf};

use super::rules::{check_archive_key, KeyError};

/// Names of the files a write goes through before it is renamed into place; readers of the
/// mirror skip them.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// The file `key` maps to under the mirror `root`, or the key rule it breaks. The store and
/// the mirror's reader share it.
pub(crate) fn key_path(root: &Path, key: &str) -> Result<PathBuf, KeyError> {
    check_archive_key(key)?;
    Ok(root.join(key))
}
