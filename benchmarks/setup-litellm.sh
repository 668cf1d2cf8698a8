#!/usr/bin/env bash
# Installs the LiteLLM proxy into its own virtual environment for the
# `litellm` row of `python -m benchmarks.overhead`.
#
# LiteLLM pins many packages (fastapi, pydantic, openai, ...), so it never
# shares the gateway's environment. Idempotent: an existing, importable
# install of the pinned version is left alone.
#
#   SEMGATE_LITELLM_VENV   where the venv goes   (default: .venv-litellm)
#   PYTHON                 interpreter to use    (default: python3.11)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${SEMGATE_LITELLM_VENV:-$root/.venv-litellm}
python=${PYTHON:-python3.11}
version=1.79.3

log() { printf '[setup-litellm] %s\n' "$*" >&2; }

installed() {
  "$venv/bin/python" - "$version" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
import litellm.proxy.proxy_server  # noqa: F401  (the [proxy] extra is importable)
sys.exit(0 if version("litellm") == sys.argv[1] else 1)
PY
}

if installed; then
  log "ready: $venv/bin/litellm (litellm $version)"
  exit 0
fi

log "creating $venv (litellm[proxy]==$version); this takes a few minutes"
"$python" -m venv "$venv"
# Keep the venv out of git even where .gitignore does not name it.
printf '*\n' > "$venv/.gitignore"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "litellm[proxy]==$version"
installed || { log "litellm installed but its proxy does not import"; exit 1; }
log "ready: $venv/bin/litellm (litellm $version)"
