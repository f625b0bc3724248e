//! The deploy package checked before anything is sent: a zip whose root holds an executable
//! `bootstrap` and the binary it starts.
//!
//! Only the zip's central directory is read (end record, then one header per entry: name,
//! the creating system and the Unix mode in the external attributes), which is all this
//! check needs; a zip library would add decompression code the product never runs.

/// Names that must sit at the zip's root, executable.
pub(crate) const REQUIRED: [&str; 2] = ["bootstrap", "mps-cos-backup"];

/// Largest zip `CreateFunction` accepts inline (`Code.ZipFile`).
pub(crate) const MAX_ZIP: u64 = 50 * 1024 * 1024;

/// Why a file is not a deployable package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PackageError {
    /// Not a zip, or a damaged one.
    #[error("not a zip file ({0}); build it with scripts/package.sh")]
    NotZip(&'static str),
    /// Larger than the API takes inline.
    #[error("{size} bytes is more than the {MAX_ZIP} bytes CreateFunction accepts inline")]
    TooLarge {
        /// The zip's size.
        size: u64,
    },
    /// A required file is missing at the root.
    #[error("has no {0} at its root; build it with scripts/package.sh")]
    Missing(&'static str),
    /// A required file is there but SCF could not execute it.
    #[error("{0} is not an executable file (Unix mode {1:o}); build the zip with scripts/package.sh, which records the modes")]
    NotExecutable(&'static str, u32),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// One central directory entry: name, creating system, external attributes.
struct Entry<'a> {
    name: &'a [u8],
    made_by_unix: bool,
    external: u32,
}

const EOCD_SIG: u32 = 0x0605_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
/// Unix, in the high byte of "version made by".
const HOST_UNIX: u16 = 3;

fn entries(zip: &[u8]) -> Result<Vec<Entry<'_>>, PackageError> {
    // The end record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
    let lowest = zip.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lowest..=zip.len().saturating_sub(22))
        .rev()
        .find(|&i| u32_at(zip, i) == Some(EOCD_SIG))
        .ok_or(PackageError::NotZip("no end of central directory record"))?;
    let count = u16_at(zip, eocd + 10).ok_or(PackageError::NotZip("truncated end record"))?;
    let offset = u32_at(zip, eocd + 16).ok_or(PackageError::NotZip("truncated end record"))?;
    if count == 0xFFFF || offset == 0xFFFF_FFFF {
        return Err(PackageError::NotZip("ZIP64 archives are not supported"));
    }
    let mut at = offset as usize;
    let mut out = Vec::with_capacity(count.into());
    for _ in 0..count {
        let damaged = PackageError::NotZip("damaged central directory");
        if u32_at(zip, at) != Some(CENTRAL_SIG) {
            return Err(damaged);
        }
        let made_by = u16_at(zip, at + 4).ok_or(damaged.clone())?;
        let name_len = usize::from(u16_at(zip, at + 28).ok_or(damaged.clone())?);
        let extra_len = usize::from(u16_at(zip, at + 30).ok_or(damaged.clone())?);
        let comment_len = usize::from(u16_at(zip, at + 32).ok_or(damaged.clone())?);
        let external = u32_at(zip, at + 38).ok_or(damaged.clone())?;
        let name = zip.get(at + 46..at + 46 + name_len).ok_or(damaged)?;
        out.push(Entry {
            name,
            made_by_unix: made_by >> 8 == HOST_UNIX,
            external,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// Checks that `zip` is a package SCF can start: [`REQUIRED`] at the root, each a regular
/// file with an execute bit in the Unix mode its entry records.
pub(crate) fn check(zip: &[u8]) -> Result<(), PackageError> {
    if zip.len() as u64 > MAX_ZIP {
        return Err(PackageError::TooLarge {
            size: zip.len() as u64,
        });
    }
    let entries = entries(zip)?;
    for want in REQUIRED {
        let entry = entries
            .iter()
            .find(|e| e.name == want.as_bytes())
            .ok_or(PackageError::Missing(want))?;
        let mode = if entry.made_by_unix {
            entry.external >> 16
        } else {
            0
        };
        let regular = mode & 0o170_000 == 0o100_000;
        if !regular || mode & 0o111 == 0 {
            return Err(PackageError::NotExecutable(want, mode));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stored (uncompressed) zip of `(name, unix mode, content)`, written the way zip tools
    /// do: local headers, central directory, end record.
    pub(crate) fn zip(files: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, mode, content) in files {
            let offset = out.len() as u32;
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 4]); // crc (unchecked here)
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(content);
            central.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
            central.extend_from_slice(&((HOST_UNIX << 8) | 20).to_le_bytes());
            // version needed, flags, method, time, date, crc
            central.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&(content.len() as u32).to_le_bytes());
            central.extend_from_slice(&(content.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(mode << 16).to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&EOCD_SIG.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn a_package_needs_both_files_executable_at_its_root() {
        let good = zip(&[
            ("bootstrap", 0o100_755, b"#!/bin/sh\n"),
            ("mps-cos-backup", 0o100_755, b"\x7fELF"),
        ]);
        assert_eq!(check(&good), Ok(()));
        // As scripts/package.sh writes it (Python's zipfile, deflated, modes recorded).
        assert_eq!(check(include_bytes!("testdata/package-sh.zip")), Ok(()));
        let not_exec = zip(&[
            ("bootstrap", 0o100_644, b"#!/bin/sh\n"),
            ("mps-cos-backup", 0o100_755, b"\x7fELF"),
        ]);
        assert_eq!(
            check(&not_exec),
            Err(PackageError::NotExecutable("bootstrap", 0o100_644))
        );
        let nested = zip(&[
            ("pkg/bootstrap", 0o100_755, b""),
            ("mps-cos-backup", 0o100_755, b""),
        ]);
        assert_eq!(check(&nested), Err(PackageError::Missing("bootstrap")));
        let dir = zip(&[
            ("bootstrap", 0o100_755, b""),
            ("mps-cos-backup", 0o040_755, b""),
        ]);
        assert!(matches!(
            check(&dir),
            Err(PackageError::NotExecutable("mps-cos-backup", _))
        ));
        assert!(matches!(
            check(b"#!/bin/sh\nexec x\n"),
            Err(PackageError::NotZip(_))
        ));
        let mut cut = good.clone();
        cut.truncate(good.len() - 30);
        assert!(matches!(check(&cut), Err(PackageError::NotZip(_))));
    }
}
