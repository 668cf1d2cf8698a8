#!/usr/bin/env bash
# Sets up and starts Semgate on http://127.0.0.1:8080/v1.
#   ./run.sh          real SmolLM2-135M under a managed vLLM, plus a simulated
#                     70B model (first run installs vLLM: a few minutes)
#   ./run.sh --sim    the embedded default: simulated engines only, starts in seconds
# Other arguments go to `semgate serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ "${1:-}" = "--sim" ]; then
  shift
  exec .venv/bin/semgate serve "$@"
fi
bash scripts/setup-vllm.sh
exec .venv/bin/semgate serve --config deploy/config/quickstart.yaml "$@"
