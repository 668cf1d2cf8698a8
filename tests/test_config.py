"""Config files: good ones load, bad ones fail at start naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, default_config, load_config, parse_config

MINIMUM = """
models:
  - name: small
    upstreams: [http://127.0.0.1:8101/v1]
    upstream_model: smollm2
    input_cost_per_mtok: 0.05
    output_cost_per_mtok: 0.10
  - name: sim-large
    engine: sim
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "semgate.yaml"
    path.write_text(text)
    return path


def test_the_documented_minimum_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMUM))
    small, large = config.models
    assert small.served_model == "smollm2" and small.upstreams == ["http://127.0.0.1:8101/v1"]
    assert small.output_cost_per_mtok == 0.10
    assert large.engine == "sim" and large.sim is not None and large.served_model == "sim-large"
    assert config.server.max_body_bytes == 16 * 1024 * 1024


def test_embedded_default_uses_only_simulated_engines() -> None:
    assert {m.engine for m in default_config().models} == {"sim"}


@pytest.mark.parametrize("models, key", [
    ([{"name": "a", "upstream": ["http://x/v1"]}], "models.0.upstream"),
    ([{"name": "a"}], "models.0"),
    ([{"name": "a", "upstreams": ["ftp://x/v1"]}], "models.0.upstreams"),
    ([{"name": "a", "engine": "tgi"}], "models.0.engine"),
    ([{"name": "a", "engine": "vllm"}], "models.0"),
    ([{"name": "a", "engine": "sim", "upstreams": ["http://x/v1"]}], "models.0"),
    ([{"name": "a", "engine": "sim", "sim": {"speedup": 0}}], "models.0.sim.speedup"),
    ([{"name": "a", "upstreams": ["http://x/v1"], "input_cost_per_mtok": -1}], "models.0.input_cost_per_mtok"),
    ([], "models"),
])
def test_invalid_models_name_the_key(models: list, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"models": models})
    assert f"  {key}:" in str(caught.value)


def test_duplicate_model_names_are_rejected() -> None:
    twice = {"name": "a", "upstreams": ["http://x/v1"]}
    with pytest.raises(ConfigError, match="used twice"):
        parse_config({"models": [twice, twice]})


def test_unknown_server_key_is_rejected() -> None:
    with pytest.raises(ConfigError, match="server.max_body"):
        parse_config({"server": {"max_body": 5}, "models": [{"name": "a", "upstreams": ["http://x/v1"]}]})


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "models: [unclosed"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(write(tmp_path, "- just a list"))


def test_serve_with_a_bad_config_exits_with_the_key_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "models:\n  - name: a\n    upstreams: [http://x/v1]\n    bogus_key: 1\n")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "models.0.bogus_key" in done.stderr and "Traceback" not in done.stderr


def test_check_config_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", str(write(tmp_path, MINIMUM))],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0 and "small, sim-large" in done.stdout


@pytest.mark.parametrize(("policies", "message"), [
    ({"profiles": {"p": {"input": [{"kind": "guard", "guard": "nope"}]}}}, "names unknown guard 'nope'"),
    ({"default": "missing"}, "policies.default names unknown profile 'missing'"),
    ({"guards": {"g": {"type": "llama_guard"}}}, "needs `model`"),
    ({"guards": {"g": {"type": "llama_guard", "model": "ghost"}}}, "names unknown model 'ghost'"),
    ({"guards": {"g": {"type": "embedded"}}, "profiles": {"p": {"input": [
        {"kind": "guard", "guard": "g", "reroute_above": 0.5}]}}}, "reroute_above and reroute_to go together"),
    ({"guards": {"g": {"type": "embedded"}}, "profiles": {"p": {"input": [
        {"kind": "guard", "guard": "g", "reroute_above": 0.5, "reroute_to": "m", "speculative": True}]}}},
     "a speculative guard cannot reroute"),
    ({"profiles": {"p": {"uncertainty": {"escalate_below": 0.3}}}}, "escalate_below and escalate_to go together"),
    ({"profiles": {"p": {"output": [{"kind": "pii", "action": "shred"}]}}}, "policies.profiles.p.output.0"),
])
def test_policy_config_errors_name_the_problem(policies: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"models": [{"name": "m", "upstreams": ["http://127.0.0.1:9/v1"]}], "policies": policies})
    assert message in str(caught.value)
