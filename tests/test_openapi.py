"""/openapi.json documents the whole surface, and the gateway keeps to it under a fuzzer.

The document is checked for what FastAPI alone left out (the proxied
endpoints, dataflow bodies, the 400 error rule, security, x-request-id);
then schemathesis generates requests from it — valid ones and ones that break
the schema — against a running gateway with tenants, the admin API and a sim
engine, and checks every answer: no 5xx, statuses, content types, headers
and bodies as documented.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.app import Gateway
from gateway.config import parse_config
from gateway.tenants.keys import hash_key
from tests import support
from tests.support import BackgroundLoop, RunningGateway

ADMIN_ENV = "SEMGATE_TEST_OPENAPI_ADMIN_KEY"
ADMIN_KEY = "admin-key-for-the-fuzzer"
TEAM_KEY = "sk-team-key-for-the-fuzzer"
PROXIED = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
SEMANTIC = (*PROXIED, "/dataflow/v1/sessions", "/dataflow/v1/sessions/{sid}/graphs", "/dataflow/v1/sessions/{sid}/calls")
SIM = {"engine": "sim", "sim": {"profile": "instant", "overrides": {"max_model_len": 64}}}


def config(auth: bool) -> dict[str, Any]:
    base: dict[str, Any] = {"server": {"health_interval_s": 60, "max_body_bytes": 65536},
                            "dataflow": {"max_wait_s": 0.2},  # fetches of variables that never come: short
                            "models": [{"name": "sim", **SIM}, {"name": "vec", **SIM}]}
    if auth:
        base |= {"auth": {"admin_key_env": ADMIN_ENV}, "tenants": {"team": {"key_hashes": [hash_key(TEAM_KEY.encode())]}}}
    return base


@pytest.fixture(scope="module")
def fuzzed(bg: BackgroundLoop) -> Iterator[RunningGateway]:
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        running = bg.run(support.start_gateway(config(auth=True)))
    finally:
        del os.environ[ADMIN_ENV]
    yield running
    bg.run(support.stop_gateway(running))


@pytest.fixture(scope="module")
def document(fuzzed: RunningGateway) -> dict[str, Any]:
    reply = httpx.get(f"{fuzzed.url}/openapi.json", headers={"authorization": f"Bearer {TEAM_KEY}"})
    assert reply.status_code == 200 and reply.headers["x-request-id"]
    return reply.json()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


# --- the document --------------------------------------------------------------


@pytest.mark.parametrize("path, schema", [
    ("/v1/chat/completions", "ChatCompletionRequest"),
    ("/v1/completions", "CompletionRequest"),
    ("/v1/embeddings", "EmbeddingRequest"),
    ("/dataflow/v1/sessions", "SessionBody"),
    ("/dataflow/v1/sessions/{sid}/graphs", "GraphBody"),
    ("/dataflow/v1/sessions/{sid}/calls", "CallBody"),
    ("/dataflow/v1/sessions/{sid}/variables", "VariableBody"),
])
def test_every_post_documents_its_request_body(document: dict[str, Any], path: str, schema: str) -> None:
    body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{schema}"}
    assert document["components"]["schemas"][schema]["properties"]


def test_the_chat_schema_is_the_one_the_gateway_validates_with(document: dict[str, Any]) -> None:
    chat = document["components"]["schemas"]["ChatCompletionRequest"]
    assert {"model", "messages"} <= set(chat["required"])
    assert chat["properties"]["n"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 128}


def test_no_operation_documents_422_and_every_error_is_openai_shaped(document: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, operation in operations(document):
        assert "422" not in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            assert response["headers"]["x-request-id"], (method, path, status)
            if (status[0] in "45" or status == "default") and path != "/ready":  # 503: not ready, same body
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)


def test_every_body_taking_operation_documents_400_and_413(document: dict[str, Any]) -> None:
    bodies = [(path, method, op) for path, method, op in operations(document) if "requestBody" in op]
    assert len(bodies) == 9  # 3 proxied, 5 dataflow, 1 admin
    for path, method, operation in bodies:
        assert {"400", "413"} <= set(operation["responses"]), (method, path)


def test_security_is_documented_where_a_key_is_needed(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == schemes["adminKey"] | {"description": schemes["apiKey"]["description"]}
    for path, method, operation in operations(document):
        if path in ("/health", "/ready", "/metrics"):
            assert "security" not in operation and "401" not in operation["responses"]
        else:
            expected = "adminKey" if path.startswith("/admin/") else "apiKey"
            assert operation["security"] == [{expected: []}], (method, path)
            assert "401" in operation["responses"]


def test_streams_and_metrics_document_their_content_types(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "text/event-stream" in paths["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    stream = paths["/dataflow/v1/sessions/{sid}/variables/{vid}/stream"]["get"]
    assert list(stream["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {p["name"] for p in stream["parameters"]} >= {"perf", "timeout", "last-event-id"}
    assert list(paths["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]


def test_without_tenants_the_document_has_no_security_and_no_admin_api(bg: BackgroundLoop) -> None:
    running = bg.run(support.start_gateway(config(auth=False)))
    try:
        document = httpx.get(f"{running.url}/openapi.json").json()
    finally:
        bg.run(support.stop_gateway(running))
    assert "securitySchemes" not in document["components"]
    assert not [path for path in document["paths"] if path.startswith("/admin/")]
    assert "/v1/chat/completions" in document["paths"]


# --- the fuzzer -------------------------------------------------------------------


def fuzzing_schema() -> Any:
    """The document of a gateway configured like `fuzzed`, built without serving (collection needs it).

    (schemathesis' lazy from_fixture does not run on pytest 9.) Requests name
    the models that exist, so valid ones reach the sim engine and its answers
    are checked too; unknown names are 404s, tested elsewhere.
    """
    os.environ[ADMIN_ENV] = ADMIN_KEY
    try:
        document = Gateway(parse_config(config(auth=True))).api.openapi()
    finally:
        del os.environ[ADMIN_ENV]
    document = copy.deepcopy(document)
    for name in ("ChatCompletionRequest", "CompletionRequest", "EmbeddingRequest"):
        document["components"]["schemas"][name]["properties"]["model"] = {"type": "string", "enum": ["sim", "vec"]}
    return schemathesis.openapi.from_dict(document)


schema = fuzzing_schema()


def test_the_fuzzed_document_is_the_one_the_gateway_serves(document: dict[str, Any]) -> None:
    assert document["paths"] == schema.raw_schema["paths"]


@schema.auth(refresh_interval=None)
class Keys:
    """The admin key for /admin, the tenant's elsewhere; schemathesis also tries without (401 expected)."""

    def get(self, case: Any, ctx: Any) -> str:
        return ADMIN_KEY if case.path.startswith("/admin/") else TEAM_KEY

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_gateway_answers_as_documented(case: Any, fuzzed: RunningGateway) -> None:
    # Some rules no JSON schema states: the engine's ("top_logprobs needs
    # logprobs", no empty token lists; its 400s pass through) and a graph's
    # (known models, no cycles): there a schema-valid request may still be a 400.
    semantic = [positive_data_acceptance] if case.path in SEMANTIC else []
    case.call_and_validate(base_url=fuzzed.url, timeout=30, excluded_checks=semantic)
