"""deploy/: Kubernetes manifests, Compose stack, Prometheus, Grafana, Dockerfile.

Everything offline: Kubernetes objects against the schemas bundled with
kubernetes-validate (strict: unknown fields fail), gateway configs through the
gateway's own parser, and the dashboard's PromQL against the metrics the
gateway really exports (read from its registry, not from a list kept here).
Tools that happen to be installed (kubectl for kustomize, promtool, nginx)
add a check each; without them those checks are skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_client import CollectorRegistry

from gateway.config import load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
COMPOSE_DIR = DEPLOY / "compose"
GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "semgate.json"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
K8S_PROMETHEUS = K8S / "prometheus" / "prometheus.yml"
# A Kubernetes version whose schemas kubernetes-validate ships.
K8S_VERSION = "1.31"
NAMESPACE = "semgate"
CONFIG_PATH = "/etc/semgate/semgate.yaml"


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


# ---------------------------------------------------------------- Kubernetes


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def k8s_objects() -> list[tuple[str, dict[str, Any]]]:
    """(file, object) for every object the kustomization applies."""
    out = []
    for name in kustomization()["resources"]:
        for doc in load_yaml_docs(K8S / name):
            out.append((name, doc))
    return out


def find(kind: str, name: str) -> dict[str, Any]:
    for _, obj in k8s_objects():
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind} {name!r} in deploy/kubernetes")


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def test_kustomization_lists_every_manifest():
    listed = kustomization()["resources"]
    assert len(listed) == len(set(listed))
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk, "a manifest is missing from the kustomization, or listed but absent"
    assert kustomization()["namespace"] == NAMESPACE


def test_every_manifest_validates_against_the_kubernetes_schema():
    import kubernetes_validate

    objects = k8s_objects()
    assert len(objects) >= 12
    for name, obj in objects:
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{name}: {obj['kind']}/{obj['metadata'].get('name')}: {where}: {exc.message}")
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == NAMESPACE, f"{name}: {obj['kind']} outside {NAMESPACE}"


def test_the_schema_check_catches_mistakes():
    """Guards the guard: a misspelt field and a wrong type must both fail."""
    import kubernetes_validate

    deployment = find("Deployment", "semgate")
    broken = json.loads(json.dumps(deployment))
    probe = pod_spec(broken)["containers"][0]["readinessProbe"]
    probe["httpGett"] = probe.pop("httpGet")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["replicas"] = "2"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_required_objects_are_there():
    kinds = {(obj["kind"], obj["metadata"]["name"]) for _, obj in k8s_objects()}
    for needed in [
        ("Namespace", NAMESPACE), ("Deployment", "semgate"), ("Service", "semgate"),
        ("HorizontalPodAutoscaler", "semgate"), ("PodDisruptionBudget", "semgate"),
        ("ConfigMap", "semgate-config"), ("Secret", "semgate-secrets"), ("Service", "redis"),
    ]:
        assert needed in kinds, f"missing {needed}"
    assert ("StatefulSet", "redis") in kinds or ("Deployment", "redis") in kinds


def gateway_container() -> dict[str, Any]:
    deployment = find("Deployment", "semgate")
    return pod_spec(deployment)["containers"][0]


def test_gateway_deployment():
    deployment = find("Deployment", "semgate")
    assert deployment["spec"]["replicas"] >= 2
    spec = pod_spec(deployment)
    assert spec["securityContext"]["runAsNonRoot"] is True
    container = gateway_container()
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound])
    args = container["args"]
    assert args[args.index("--config") + 1] == CONFIG_PATH
    assert args[args.index("--host") + 1] == "0.0.0.0"
    port = args[args.index("--port") + 1]
    assert int(port) in {p["containerPort"] for p in container["ports"]}
    # Prometheus finds the pods by annotation, on the port the gateway listens on.
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == port


def test_gateway_config_comes_from_the_configmap():
    spec = pod_spec(find("Deployment", "semgate"))
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = [m for m in gateway_container()["volumeMounts"] if CONFIG_PATH.startswith(m["mountPath"] + "/")]
    assert len(mounts) == 1
    source = volumes[mounts[0]["name"]]["configMap"]
    configmap = find("ConfigMap", source["name"])
    filename = CONFIG_PATH[len(mounts[0]["mountPath"]) + 1:]
    key = next(item["key"] for item in source["items"] if item["path"] == filename) if "items" in source else filename
    assert key in configmap["data"]


def test_secrets_are_env_from_the_secret_and_placeholders():
    secret = find("Secret", "semgate-secrets")
    values = {**secret.get("stringData", {}), **secret.get("data", {})}
    for key, value in values.items():
        assert value == "" or "CHANGE-ME" in value, f"secret {key!r} looks real: placeholders only"
    workloads = [obj for _, obj in k8s_objects() if obj["kind"] in ("Deployment", "StatefulSet")]
    referenced = 0
    for workload in workloads:
        for container in pod_spec(workload)["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced += 1
                    assert ref["name"] == "semgate-secrets"
                    assert ref["key"] in values, f"{workload['metadata']['name']}: no key {ref['key']!r}"
                else:
                    value = str(env.get("value", ""))
                    assert not re.search(r"redis://[^@$]*:[^@$(]+@", value), f"a password in {env['name']}"
    assert referenced >= 3


def configmap_config():
    data = find("ConfigMap", "semgate-config")["data"]["semgate.yaml"]
    return parse_config(yaml.safe_load(data), "configmap semgate-config")


def test_configmap_config_parses_and_fits_the_cluster():
    config = configmap_config()
    assert config.store.backend == "redis" and config.store.url_env
    env = {e["name"]: e for e in gateway_container()["env"]}
    assert config.store.url_env in env, "the Deployment must set the store's URL variable"
    assert "redis.semgate.svc:6379" in env[config.store.url_env]["value"]
    services = {obj["metadata"]["name"]: obj for _, obj in k8s_objects() if obj["kind"] == "Service"}
    for model in config.models:
        if model.upstream_api_key_env:
            assert model.upstream_api_key_env in env
        for url in model.upstreams:
            parts = urlsplit(url)
            service = parts.hostname.split(".")[0]
            assert parts.hostname in (service, f"{service}.{NAMESPACE}", f"{service}.{NAMESPACE}.svc",
                                      f"{service}.{NAMESPACE}.svc.cluster.local")
            assert service in services, f"{model.name}: no Service {service!r}"
            assert parts.port in {p["port"] for p in services[service]["spec"]["ports"]}


def test_vllm_engines_request_gpus_and_are_scraped():
    engines = [obj for _, obj in k8s_objects()
               if obj["kind"] == "Deployment" and obj["metadata"]["name"].startswith("vllm-")]
    assert len(engines) >= 2
    for engine in engines:
        container = pod_spec(engine)["containers"][0]
        assert container["image"].startswith("vllm/vllm-openai")
        assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        assert engine["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


def test_services_hpa_and_pdb_point_at_real_pods():
    objects = [obj for _, obj in k8s_objects()]
    templates = [obj["spec"]["template"]["metadata"]["labels"]
                 for obj in objects if obj["kind"] in ("Deployment", "StatefulSet")]

    def matches(selector: dict[str, str]) -> int:
        return sum(all(labels.get(k) == v for k, v in selector.items()) for labels in templates)

    for obj in objects:
        if obj["kind"] == "Service":
            assert matches(obj["spec"]["selector"]) == 1, f"Service {obj['metadata']['name']} selects no pod"
        if obj["kind"] in ("Deployment", "StatefulSet"):
            assert matches(obj["spec"]["selector"]["matchLabels"]) == 1
    pdb = find("PodDisruptionBudget", "semgate")
    gateway_labels = find("Deployment", "semgate")["spec"]["template"]["metadata"]["labels"]
    assert all(gateway_labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items())
    hpa = find("HorizontalPodAutoscaler", "semgate")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "semgate"}
    assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_kustomize_renders():
    out = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rendered = [doc for doc in yaml.safe_load_all(out.stdout) if doc]
    assert len(rendered) == len(k8s_objects())


def test_kubernetes_prometheus_config_discovers_annotated_pods():
    config = yaml.safe_load(K8S_PROMETHEUS.read_text())
    assert 5 <= seconds(config["global"]["scrape_interval"]) <= 15
    job = config["scrape_configs"][0]
    assert job["kubernetes_sd_configs"][0]["role"] == "pod"
    keep = [r for r in job["relabel_configs"] if r.get("action") == "keep"]
    assert keep and keep[0]["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]


# ---------------------------------------------------------------- Compose


def compose() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())


def services() -> dict[str, Any]:
    return compose()["services"]


def gateway_services() -> dict[str, Any]:
    return {name: s for name, s in services().items() if "semgate" in str(s.get("image", ""))}


def vllm_services() -> dict[str, Any]:
    return {name: s for name, s in services().items() if str(s.get("image", "")).find("vllm/vllm-openai") >= 0}


def test_compose_has_the_whole_stack():
    all_services = services()
    assert len(gateway_services()) >= 2
    assert len(vllm_services()) >= 2
    images = " ".join(str(s.get("image", "")) for s in all_services.values())
    for image in ("nginx", "redis", "prom/prometheus", "grafana/grafana"):
        assert image in images
    for name, service in all_services.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], f"{name} has no healthcheck"


def test_compose_gpu_reservations():
    for name, service in vllm_services().items():
        devices = service["deploy"]["resources"]["reservations"]["devices"]
        assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices), name


def test_compose_references_only_files_that_exist():
    checked = 0
    for name, service in services().items():
        build = service.get("build")
        if build:
            context = (COMPOSE_DIR / build["context"]).resolve()
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name
            checked += 1
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (COMPOSE_DIR / source).exists(), f"{name}: {source} does not exist"
                checked += 1
            else:
                assert source in compose().get("volumes", {}), f"{name}: undeclared volume {source}"
    assert checked >= 5


def test_compose_secrets_come_from_the_environment():
    text = (COMPOSE_DIR / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    assert {"REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= required
    example = (COMPOSE_DIR / ".env.example").read_text()
    declared = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, re.M))
    assert set(re.findall(r"\$\{([A-Z0-9_]+)", text)) <= declared, ".env.example must list every variable"
    for line in example.splitlines():
        if not line.startswith("#") and "=" in line:
            assert line.split("=", 1)[1] == "", f".env.example must not carry values: {line}"
    assert ".env" in (COMPOSE_DIR / ".gitignore").read_text().split()
    for name, service in services().items():
        env = service.get("environment", {})
        for key, value in env.items():
            if re.search(r"PASSWORD|KEY|TOKEN|SECRET|REDIS_URL|AUTH", key):
                assert "${" in str(value), f"{name}: {key} must come from the environment"


def test_compose_gateway_config():
    config = load_config(COMPOSE_DIR / "semgate.yaml")
    assert config.store.backend == "redis"
    engines = vllm_services()
    for name, service in gateway_services().items():
        env = service["environment"]
        assert config.store.url_env in env and "@redis:6379" in env[config.store.url_env], name
        command = service["command"]
        assert command[command.index("--config") + 1] == CONFIG_PATH
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert any(v.split(":")[:2] == ["./semgate.yaml", CONFIG_PATH] for v in service["volumes"]), name
        for model in config.models:
            if model.upstream_api_key_env:
                assert model.upstream_api_key_env in env
    for model in config.models:
        for url in model.upstreams:
            parts = urlsplit(url)
            assert parts.hostname in engines, f"{model.name}: {parts.hostname} is not a vLLM service"
            assert parts.port == 8000


def test_nginx_balances_over_every_gateway():
    conf = (COMPOSE_DIR / "nginx.conf").read_text()
    upstreams = re.findall(r"^\s*upstream\s+(\w+)\s*\{(.*?)\}", conf, re.M | re.S)
    assert upstreams
    for name, block in upstreams:
        backends = re.findall(r"^\s*server\s+([\w.-]+):8080", block, re.M)
        assert sorted(backends) == sorted(gateway_services()), f"upstream {name} must list every gateway once"
    for upstream in re.findall(r"proxy_pass\s+http://(\w+)", conf):
        assert upstream in dict(upstreams)
    assert re.search(r"proxy_buffering\s+off", conf), "SSE streams must not be buffered"
    lb = next(s for s in services().values() if str(s.get("image", "")).startswith("nginx"))
    assert any(v.startswith("./nginx.conf:/etc/nginx/nginx.conf") for v in lb["volumes"])


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_nginx_config_syntax(tmp_path):
    conf = (COMPOSE_DIR / "nginx.conf").read_text()
    # Compose's DNS names and `resolve` (nginx >= 1.27.3) are not available here.
    conf = re.sub(r"server\s+[\w.-]+:8080\s+resolve", "server 127.0.0.1:8080", conf)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(conf)
    out = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
         "-g", f"pid {tmp_path}/nginx.pid; error_log stderr;"],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr


def test_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages and all(image == "python:3.11-slim" for image in stages), stages
    assert "pip install" in text
    assert re.search(r"^USER \d+", text, re.M), "the image must not run as root"
    assert '"semgate"' in text and '"serve"' in text and f'"{CONFIG_PATH}"' in text and '"0.0.0.0"' in text
    for line in text.splitlines():
        match = re.match(r"COPY (?!--from)(\S+(?: \S+)*) \S+$", line)
        if match:
            for source in match.group(1).split():
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


# ---------------------------------------------------------------- Prometheus


def seconds(duration: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m)", duration).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60}[unit]


def test_prometheus_scrapes_every_gateway_and_engine():
    config = yaml.safe_load(PROMETHEUS.read_text())
    assert 5 <= seconds(config["global"]["scrape_interval"]) <= 15
    for job in config["scrape_configs"]:
        if "scrape_interval" in job:
            assert 5 <= seconds(job["scrape_interval"]) <= 15
    targets = {
        job["job_name"]: {t for group in job.get("static_configs", []) for t in group["targets"]}
        for job in config["scrape_configs"]
    }
    assert targets["semgate"] == {f"{name}:8080" for name in gateway_services()}
    assert {t.split(":")[0] for t in targets["vllm"]} == set(vllm_services())
    prom = next(s for s in services().values() if str(s.get("image", "")).startswith("prom/prometheus"))
    assert any(v.startswith("../prometheus/prometheus.yml:") for v in prom["volumes"])


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_the_config():
    out = subprocess.run(["promtool", "check", "config", str(PROMETHEUS)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


# ---------------------------------------------------------------- Grafana and the metrics catalog

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}


def _dummy(parameter: inspect.Parameter) -> Any:
    return lambda: 0.0


def exported_metrics() -> dict[str, str]:
    """Metric family -> type, from the gateway's registry and dataflow/metrics.py's classes."""
    from gateway.metrics import GatewayMetrics

    metrics = GatewayMetrics()
    # Gauges registered on demand (read from the executor): register them as the app does.
    for name, method in inspect.getmembers(metrics, inspect.ismethod):
        if name.startswith("observe_"):
            params = inspect.signature(method).parameters.values()
            method(**{p.name: _dummy(p) for p in params if p.kind is p.KEYWORD_ONLY})
    registries = [metrics.registry]
    try:
        module = importlib.import_module("dataflow.metrics")
    except ModuleNotFoundError:
        module = None
    if module is not None:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and "registry" in inspect.signature(cls).parameters:
                registry = CollectorRegistry()
                cls(registry=registry)
                registries.append(registry)
    families: dict[str, str] = {}
    for registry in registries:
        for family in registry.collect():
            families[family.name] = family.type
    stop = getattr(metrics, "close", None)
    if callable(stop):
        stop()
    return families


def metric_names_in_source() -> set[str]:
    """Every metric name written in the gateway's code (a cross-check of exported_metrics())."""
    names = set()
    for folder in ("gateway", "dataflow", "policies", "router"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"[\"'](semgate_[a-z0-9_]+)[\"']", path.read_text()))
    return names


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows keep theirs inside
    return out


def expressions(board: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in panels(board) for t in p.get("targets", []) if t.get("expr")]
    exprs += [v["query"] if isinstance(v["query"], str) else v["query"].get("query", "")
              for v in board["templating"]["list"] if v.get("type") == "query"]
    return exprs


def test_the_catalog_is_read_from_the_code():
    exported = exported_metrics()
    assert {"semgate_requests", "semgate_request_duration_seconds", "semgate_requests_in_flight"} <= set(exported)
    assert exported["semgate_requests"] == "counter"
    assert exported["semgate_request_duration_seconds"] == "histogram"
    missing = {
        name for name in metric_names_in_source()
        if not any(name == family + suffix for family, kind in exported.items() for suffix in ("", *SUFFIXES[kind]))
    }
    assert not missing, f"metrics named in the code but not found in any registry: {sorted(missing)}"


def test_dashboard_is_valid_grafana_json():
    board = dashboard()
    assert board["title"] and board["uid"]
    assert board["schemaVersion"] >= 36
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == "${datasource}", variable["name"]
    for panel in panels(board):
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
    # Every $variable used in a query is defined.
    for expr in expressions(board):
        for name in re.findall(r"\$(\w+)", expr):
            assert name in variables or name.startswith("__"), f"undefined ${name} in {expr}"


def test_dashboard_only_names_exported_metrics():
    exported = exported_metrics()
    allowed = {family + suffix for family, kind in exported.items() for suffix in SUFFIXES[kind]}
    for expr in expressions(dashboard()):
        for name in re.findall(r"\b(semgate_[a-z0-9_]+)", expr):
            assert name in allowed, f"{name!r} (in {expr}) is not exported by the gateway"
        if "histogram_quantile(" in expr:
            assert "_bucket" in expr and re.search(r"\ble\b", expr), f"quantile without buckets/le: {expr}"


def test_every_exported_metric_has_a_panel():
    exported = exported_metrics()
    used = set()
    for expr in expressions(dashboard()):
        used |= set(re.findall(r"\b(semgate_[a-z0-9_]+)", expr))
    missing = [
        family for family, kind in exported.items()
        if not any(family + suffix in used for suffix in SUFFIXES[kind])
    ]
    assert not missing, f"exported metrics without a panel: {sorted(missing)}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_dashboard_promql_parses(tmp_path):
    """Every query, with Grafana's variables filled in, as a recording rule: promtool parses the PromQL."""
    rules = []
    for number, expr in enumerate(expressions(dashboard())):
        if expr.startswith("label_values("):
            expr = re.fullmatch(r"label_values\((.*), *\w+\)", expr).group(1)
        expr = expr.replace("$__rate_interval", "1m").replace("$__range", "1h")
        expr = re.sub(r"\$\w+", ".*", expr)
        rules.append({"record": f"dashboard:query_{number}", "expr": expr})
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    out = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dashboard_is_what_its_generator_writes():
    """The JSON is generated (deploy/grafana/build_dashboard.py): edit the generator, then rerun it."""
    spec = importlib.util.spec_from_file_location("build_dashboard", GRAFANA / "build_dashboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert dashboard() == json.loads(json.dumps(module.dashboard())), "rerun deploy/grafana/build_dashboard.py"


def test_grafana_provisioning_matches_compose():
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    source = datasources["datasources"][0]
    assert source["type"] == "prometheus"
    assert urlsplit(source["url"]).hostname in services()
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "semgate.yaml").read_text())
    path = providers["providers"][0]["options"]["path"]
    grafana = next(s for s in services().values() if str(s.get("image", "")).startswith("grafana/"))
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"]}
    assert mounts.get(path) == "../grafana/dashboards", f"the provider reads {path}, where nothing is mounted"
    assert mounts.get("/etc/grafana/provisioning") == "../grafana/provisioning"


# ---------------------------------------------------------------- docs


def test_deployment_guide_names_real_files():
    text = (ROOT / "docs" / "deployment.md").read_text()
    paths = set(re.findall(r"\b(deploy/[\w./-]+\w)", text))
    assert len(paths) >= 8
    for path in paths:
        assert (ROOT / path).exists(), f"docs/deployment.md names {path}, which does not exist"
