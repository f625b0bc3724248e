//! The local mirror as a [`Source`]: `DIR/<key>`, the files [`crate::store::local`] writes.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::source::{roll_up, Entry, Page, Source, SourceError, MAX_OBJECT_BYTES};
use crate::key::{key_path, TEMP_PREFIX};

/// Keys in one page of a listing without delimiter, as COS pages them.
const PAGE_KEYS: usize = 1000;

/// Reads a directory that mirrors the bucket, as `invoke --local DIR` writes it.
#[derive(Debug)]
pub struct LocalSource {
    root: PathBuf,
    label: String,
}

impl LocalSource {
    /// A source over the directory `root` (which may not exist: then it holds nothing).
    pub(crate) fn new(root: impl Into<PathBuf>) -> LocalSource {
        let root = root.into();
        let label = format!("local mirror {}", root.display());
        LocalSource { root, label }
    }
}

impl Source for LocalSource {
    fn location(&self) -> &str {
        &self.label
    }

    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<char>,
        marker: Option<&str>,
    ) -> Result<Page, SourceError> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        let marker = marker.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            // A delimiter listing (folder discovery) is one page: folders are few.
            let shallow = delimiter == Some('/');
            let limit = if shallow { usize::MAX } else { PAGE_KEYS };
            let (entries, truncated) =
                list_files(&root, &prefix, shallow, marker.as_deref(), limit)?;
            let mut page = roll_up(&prefix, entries, delimiter);
            page.truncated = truncated;
            Ok(page)
        })
        .await
        .map_err(|e| SourceError::Io {
            path: self.root.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })?
    }

    async fn get(&self, key: &str) -> Result<Bytes, SourceError> {
        // The same key -> file mapping (and refusals) as the store that wrote the mirror.
        let path = key_path(&self.root, key).map_err(|e| SourceError::BadKey {
            key: key.to_string(),
            reason: e.to_string(),
        })?;
        let (root, key, label) = (self.root.clone(), key.to_string(), self.label.clone());
        // One blocking call for the checks and the read: a round trip to the blocking
        // pool per path segment would cost more than the read.
        tokio::task::spawn_blocking(move || read_file(&root, &path, &key, &label))
            .await
            .map_err(|e| SourceError::Io {
                path: self.root.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?
    }
}

/// The bytes of `key` (at `path` under `root`), never following a symbolic link: one
/// could point out of the mirror.
fn read_file(root: &Path, path: &Path, key: &str, label: &str) -> Result<Bytes, SourceError> {
    let not_found = || SourceError::NotFound {
        key: key.to_string(),
        location: label.to_string(),
    };
    let io = |source| SourceError::Io {
        path: path.display().to_string(),
        source,
    };
    let too_large = || SourceError::TooLarge {
        key: key.to_string(),
        limit: MAX_OBJECT_BYTES,
    };
    let mut at = root.to_path_buf();
    let mut meta = None;
    for segment in key.split('/') {
        at.push(segment);
        let m = match std::fs::symlink_metadata(&at) {
            Ok(m) => m,
            Err(e) if is_missing(&e) => return Err(not_found()),
            Err(e) => return Err(io(e)),
        };
        if m.file_type().is_symlink() {
            return Err(SourceError::BadKey {
                key: key.to_string(),
                reason: "the local mirror has a symbolic link there; not followed".into(),
            });
        }
        meta = Some(m);
    }
    let Some(meta) = meta.filter(|m| m.is_file()) else {
        return Err(not_found());
    };
    if meta.len() > MAX_OBJECT_BYTES as u64 {
        return Err(too_large());
    }
    let body = std::fs::read(path).map_err(io)?;
    if body.len() > MAX_OBJECT_BYTES {
        return Err(too_large());
    }
    Ok(Bytes::from(body))
}

fn is_missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Up to `limit` files whose key starts with `prefix` and comes after `marker`, in key
/// order, and whether more follow. With `shallow`, a directory directly under the prefix is
/// reported once, as a placeholder entry `dir/` (enough for [`roll_up`] to make it a
/// folder), instead of being walked; empty directories are left out, as COS has no empty
/// folders.
///
/// Directories are walked in key order, one at a time, and those wholly before the marker
/// are not read: a page costs the directories it spans, never the whole tree.
fn list_files(
    root: &Path,
    prefix: &str,
    shallow: bool,
    marker: Option<&str>,
    limit: usize,
) -> Result<(Vec<Entry>, bool), SourceError> {
    let (dir_key, name_start) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    // Keys never hold such segments, so nothing can be under such a prefix.
    if dir_key
        .split('/')
        .rev()
        .skip(1)
        .any(|s| s.is_empty() || s == "." || s == ".." || s.contains('\\'))
    {
        return Ok((Vec::new(), false));
    }
    let mut out = Vec::new();
    let mut items: Vec<(String, PathBuf, bool)> = read_dir(&root.join(dir_key))?
        .into_iter()
        .filter(|(name, _, _)| name.starts_with(name_start))
        .collect();
    sort_as_keys(&mut items);
    if shallow {
        for (name, path, is_dir) in items {
            let key = format!("{dir_key}{name}");
            if is_dir {
                if holds_a_file(&path)? {
                    out.push(Entry {
                        key: format!("{key}/"),
                        size: 0,
                        last_modified: None,
                    });
                }
            } else if marker.is_none_or(|m| key.as_str() > m) {
                out.push(entry(key, &path)?);
            }
        }
        return Ok((out, false));
    }
    let more = walk_items(items, dir_key, marker, limit, &mut out)?;
    Ok((out, more))
}

/// Orders directory items as their keys sort: a directory `a` holds keys `a/...`, so it
/// sorts as `a/` (after `a.json`, before `a0`).
fn sort_as_keys(items: &mut [(String, PathBuf, bool)]) {
    items.sort_by(|a, b| {
        let k = |(name, _, is_dir): &(String, PathBuf, bool)| {
            let mut k = name.as_bytes().to_vec();
            if *is_dir {
                k.push(b'/');
            }
            k
        };
        k(a).cmp(&k(b))
    });
}

/// Adds the files of `items` (sorted, keys `key_dir + name`) and everything beneath their
/// directories to `out`, after `marker`, until `out` holds `limit`; true when a file
/// beyond the limit exists.
fn walk_items(
    items: Vec<(String, PathBuf, bool)>,
    key_dir: &str,
    marker: Option<&str>,
    limit: usize,
    out: &mut Vec<Entry>,
) -> Result<bool, SourceError> {
    for (name, path, is_dir) in items {
        let key = format!("{key_dir}{name}");
        if is_dir {
            let sub = format!("{key}/");
            // Every key beneath sorts before the marker: skip without reading.
            if marker.is_some_and(|m| sub.as_str() < m && !m.starts_with(sub.as_str())) {
                continue;
            }
            let mut inner = read_dir(&path)?;
            sort_as_keys(&mut inner);
            if walk_items(inner, &sub, marker, limit, out)? {
                return Ok(true);
            }
        } else if marker.is_none_or(|m| key.as_str() > m) {
            if out.len() >= limit {
                return Ok(true);
            }
            out.push(entry(key, &path)?);
        }
    }
    Ok(false)
}

/// The entries of `dir` that can be part of a key: (name, path, is a directory). Names
/// that are not UTF-8, temporary files and symbolic links are skipped; a missing
/// directory is empty.
fn read_dir(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>, SourceError> {
    let io = |source| SourceError::Io {
        path: dir.display().to_string(),
        source,
    };
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if is_missing(&e) => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut out = Vec::new();
    for item in rd {
        let item = item.map_err(io)?;
        let Ok(name) = item.file_name().into_string() else {
            continue;
        };
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let ft = item.file_type().map_err(io)?;
        if ft.is_dir() || ft.is_file() {
            out.push((name, item.path(), ft.is_dir()));
        }
    }
    Ok(out)
}

fn holds_a_file(dir: &Path) -> Result<bool, SourceError> {
    for (_, path, is_dir) in read_dir(dir)? {
        if !is_dir || holds_a_file(&path)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn entry(key: String, path: &Path) -> Result<Entry, SourceError> {
    let meta = std::fs::metadata(path).map_err(|source| SourceError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Entry {
        key,
        size: meta.len(),
        last_modified: meta.modified().ok().map(DateTime::<Utc>::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::source::Listing;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mcb-src-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn put(root: &Path, key: &str, body: &str) {
        let p = root.join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    fn keys(l: &Listing) -> Vec<&str> {
        l.entries.iter().map(|e| e.key.as_str()).collect()
    }

    #[tokio::test]
    async fn lists_like_a_bucket() {
        let root = tmpdir("list");
        for k in [
            "p/A/2026/11/24/t.finish.1.json",
            "p/A/2026/11/25/t.finish.2.json",
            "p/B/2026/11/24/u.finish.3.json",
            "p/top.json",
            "p/A/2026/11/24/.tmp-1-0",
            "other/x.json",
        ] {
            put(&root, k, "{}");
        }
        std::fs::create_dir_all(root.join("p/Empty/2026")).unwrap();
        let src = LocalSource::new(&root);

        let all = src.list("p/", None).await.unwrap();
        assert_eq!(
            keys(&all),
            [
                "p/A/2026/11/24/t.finish.1.json",
                "p/A/2026/11/25/t.finish.2.json",
                "p/B/2026/11/24/u.finish.3.json",
                "p/top.json"
            ]
        );
        assert_eq!(all.entries[0].size, 2);
        assert!(all.entries[0].last_modified.is_some());

        let folders = src.list("p/", Some('/')).await.unwrap();
        assert_eq!(folders.folders, ["p/A/", "p/B/"]);
        assert_eq!(keys(&folders), ["p/top.json"]);

        // A prefix need not end at a folder boundary.
        let part = src.list("p/A/2026/11/2", None).await.unwrap();
        assert_eq!(part.entries.len(), 2);
        let part = src.list("p/A/2026/11/24/t.", None).await.unwrap();
        assert_eq!(keys(&part), ["p/A/2026/11/24/t.finish.1.json"]);

        for nothing in ["missing/", "p/../p/", "p//", "p/top.json/"] {
            assert_eq!(
                src.list(nothing, None).await.unwrap().entries,
                vec![],
                "{nothing}"
            );
        }
        assert_eq!(
            LocalSource::new(root.join("nope"))
                .list("", Some('/'))
                .await
                .unwrap(),
            Listing {
                requests: 1,
                ..Listing::default()
            }
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn pages_follow_the_marker_in_key_order_across_directories() {
        let root = tmpdir("pages");
        let keys = [
            "p/a.json",
            "p/a/1.json",
            "p/a/2/x.json",
            "p/a/3.json",
            "p/a0.json",
            "p/b/1.json",
        ];
        for k in keys {
            put(&root, k, "{}");
        }
        let mut got = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let (entries, more) = list_files(&root, "p/", false, marker.as_deref(), 2).unwrap();
            pages += 1;
            assert!(entries.len() <= 2);
            marker = entries.last().map(|e| e.key.clone());
            got.extend(entries.into_iter().map(|e| e.key));
            if !more {
                break;
            }
        }
        assert_eq!(got, keys, "every key once, in key order");
        assert_eq!(pages, 3);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn gets_objects_and_names_missing_ones() {
        let root = tmpdir("get");
        put(&root, "p/a b&c%d/任务.json", "{\"x\":1}");
        let src = LocalSource::new(&root);
        assert_eq!(
            src.get("p/a b&c%d/任务.json").await.unwrap(),
            Bytes::from_static(b"{\"x\":1}")
        );
        let e = src.get("p/missing.json").await.unwrap_err().to_string();
        assert!(
            e.starts_with("no object \"p/missing.json\" in local mirror"),
            "{e}"
        );
        let e = src.get("p").await.unwrap_err().to_string();
        assert!(e.starts_with("no object"), "{e}");
        for bad in ["../x", "/etc/passwd", "a//b", ""] {
            let e = src.get(bad).await.unwrap_err();
            assert!(matches!(e, SourceError::BadKey { .. }), "{bad}: {e}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
