#!/usr/bin/env bash
# Sets up everything (venvs, vLLM, the SmolLM2 model, Debian packages) and runs
# the whole test suite, real-vLLM tests included. Extra arguments go to pytest,
# e.g. `./test.sh -m "not vllm"` for the quick loop.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup-system.sh
bash scripts/setup.sh
bash scripts/setup-vllm.sh
.venv/bin/ruff check --quiet gateway router dataflow policies benchmarks tests scripts
exec .venv/bin/python -m pytest "$@"
