#!/usr/bin/env bash
# Creates .venv with Semgate and its test/bench extras. Idempotent and quick
# when nothing changed (a stamp of pyproject.toml's hash skips pip).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

stamp=$venv/.semgate-installed
want=$(sha256sum "$root/pyproject.toml" | cut -c1-16)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "[setup] installing Semgate into $venv" >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
# This machine's pip config lists local index folders that may be absent; hide
# that noise, keep real errors.
"$venv/bin/pip" install -q --upgrade pip 2> >(grep -v "^WARNING: Location" >&2)
"$venv/bin/pip" install -q -e "$root[test,bench]" 2> >(grep -v "^WARNING: Location" >&2)
echo "$want" > "$stamp"
