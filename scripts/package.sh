#!/bin/sh
# Builds the deploy package: dist/mps-cos-backup.zip with `bootstrap` and a static
# x86_64 Linux (musl) binary at its root, both executable. Runs on CentOS 7 and later.
set -eu
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl

# Everything the build needs is checked first and reported together, each with how to get
# it; nothing is installed from here (that would need root and change the system).
missing=0
need() {
  echo "package: $1" >&2
  missing=1
}
if ! command -v cargo >/dev/null 2>&1; then
  need "cargo not found; install Rust from https://rustup.rs"
elif command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    need "the Rust target $target is not installed; add it with: rustup target add $target"
  fi
fi
# ring (TLS) compiles a little C; the musl target wants a musl C compiler.
cc="${CC_x86_64_unknown_linux_musl:-musl-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  need "$cc not found (a C compiler for musl); install it with: sudo apt-get install musl-tools (Debian/Ubuntu) or sudo dnf install musl-gcc (Fedora, EPEL), or set CC_x86_64_unknown_linux_musl to one"
fi
if ! command -v python3 >/dev/null 2>&1; then
  need "python3 not found (it writes the zip); install python3"
fi
if [ "$missing" -ne 0 ]; then
  exit 1
fi

CC_x86_64_unknown_linux_musl="$cc" cargo build --release --locked --target "$target"

rm -rf dist/pkg && mkdir -p dist/pkg
cp "${CARGO_TARGET_DIR:-target}/$target/release/mps-cos-backup" dist/pkg/mps-cos-backup
cp bootstrap dist/pkg/bootstrap
chmod 755 dist/pkg/mps-cos-backup dist/pkg/bootstrap
rm -f dist/mps-cos-backup.zip
# Python's zipfile is everywhere and records Unix modes, so SCF sees both files as executable.
python3 - <<'PY'
import os, zipfile
with zipfile.ZipFile("dist/mps-cos-backup.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name in ("bootstrap", "mps-cos-backup"):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100755 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(os.path.join("dist/pkg", name), "rb") as f:
            z.writestr(info, f.read())
PY
ls -l dist/mps-cos-backup.zip dist/pkg/mps-cos-backup
