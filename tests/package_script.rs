//! `scripts/package.sh` installs nothing: on a machine without the build's prerequisites it
//! names each one and how to get it, and exits 1, without calling a package manager.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory holding only the given tools (symlinks to the system's), plus package-manager
/// stand-ins that leave a mark when called.
fn bare_path(tag: &str, tools: &[&str]) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("mcb-pkg-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("temp dir");
    for tool in tools {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} not found in /usr/bin or /bin"));
        std::os::unix::fs::symlink(found, bin.join(tool)).expect("symlink");
    }
    let mark = dir.join("package-manager-called");
    for fake in ["apt-get", "sudo", "dnf", "yum", "apk", "rustup"] {
        let path = bin.join(fake);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"$0 $*\" >> {}\nexit 0\n", mark.display()),
        )
        .expect("write stand-in");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    (bin, mark)
}

#[test]
fn missing_prerequisites_are_named_with_how_to_get_them_and_nothing_is_installed() {
    let (bin, mark) = bare_path("bare", &["dirname", "grep"]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package.sh");
    let out = Command::new("/bin/sh")
        .arg(&script)
        .env_clear()
        .env("PATH", &bin)
        .output()
        .expect("run package.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in [
        "cargo not found",
        "https://rustup.rs",
        "musl-gcc not found",
        "apt-get install musl-tools",
        "python3 not found",
    ] {
        assert!(stderr.contains(needle), "names {needle:?}: {stderr}");
    }
    assert!(
        !mark.exists(),
        "no package manager may run: {}",
        std::fs::read_to_string(&mark).unwrap_or_default()
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(bin.parent().expect("parent"));
}

#[test]
fn a_missing_rust_target_is_named_with_the_rustup_command() {
    // cargo present, rustup listing no installed target, no musl compiler.
    let (bin, mark) = bare_path("target", &["dirname", "grep"]);
    std::fs::write(bin.join("cargo"), "#!/bin/sh\nexit 0\n").expect("write cargo");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("cargo"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/package.sh");
    let out = Command::new("/bin/sh")
        .arg(&script)
        .env_clear()
        .env("PATH", &bin)
        .env("CC_x86_64_unknown_linux_musl", "my-musl-cc")
        .output()
        .expect("run package.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("rustup target add x86_64-unknown-linux-musl"),
        "{stderr}"
    );
    assert!(stderr.contains("my-musl-cc not found"), "{stderr}");
    assert!(!stderr.contains("cargo not found"), "{stderr}");
    // The stand-in rustup was asked only for the list of installed targets.
    let calls = std::fs::read_to_string(&mark).unwrap_or_default();
    assert!(
        calls
            .lines()
            .all(|l| l.ends_with("rustup target list --installed")),
        "{calls}"
    );
    let _ = std::fs::remove_dir_all(bin.parent().expect("parent"));
}
