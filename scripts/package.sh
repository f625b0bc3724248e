#!/bin/sh
# Builds the deploy package: dist/mps-cos-backup.zip with `bootstrap` and a static
# x86_64 Linux (musl) binary at its root, both executable. Runs on CentOS 7 and later.
set -eu
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup target add "$target"
fi
# ring (TLS) compiles a little C; the musl target wants musl's gcc wrapper.
if ! command -v musl-gcc >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq musl-tools
  else
    echo "package: musl-gcc not found; install musl-tools (Debian/Ubuntu) or musl-gcc" >&2
    exit 1
  fi
fi

CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked --target "$target"

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
