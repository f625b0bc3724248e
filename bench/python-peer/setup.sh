#!/bin/sh
# Creates the Python peer's throwaway virtualenv (benchmark only) and prints its python path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv="${PEER_VENV:-$here/../../target/python-peer-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q "cos-python-sdk-v5==1.9.44" >&2
fi
echo "$venv/bin/python"
