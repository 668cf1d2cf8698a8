"""The gateway's `/dataflow/v1` endpoints as async methods; no workflow logic.

Kept apart from `Workflow` so the wire format (paths, long-poll loop, SSE
parsing, error mapping) lives in one place and the workflow deals only in
ids and values.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from dataflow.sdk.errors import APIConnectionError, VariableTimeout, error_from_response

API = "/dataflow/v1"
# One long-poll asks the gateway to hold the request at most this long; a
# longer wait is several polls. Below the gateway's default `max_wait_s`
# (300), and short enough that a dead connection is noticed within a minute.
POLL_S = 60.0
USER_AGENT = "semgate-dataflow-sdk/0.1"


def normalize_base_url(base_url: str) -> str:
    """The gateway's root URL: accepts the OpenAI-style `.../v1` that users already have at hand."""
    url = base_url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


class DataflowHTTP:
    """One httpx client bound to one event loop (httpx connections cannot move between loops)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": USER_AGENT}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = timeout
        # No pool timeout: long-polls hold connections, and a fetch waiting for
        # a free one is waiting for its variable, not stuck.
        self.client = httpx.AsyncClient(
            base_url=normalize_base_url(base_url),
            headers=headers,
            timeout=httpx.Timeout(timeout, pool=None),
            transport=transport,
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    # ---- sessions and graphs ----------------------------------------------

    async def create_session(self, graph: dict[str, Any] | None = None, ttl_s: float | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if graph is not None:
            body["graph"] = graph
        if ttl_s is not None:
            body["ttl_s"] = ttl_s
        return await self._json("POST", f"{API}/sessions", body)

    async def submit_graph(self, session: str, graph: dict[str, Any]) -> dict[str, Any]:
        return await self._json("POST", f"{API}/sessions/{session}/graphs", graph)

    async def get_session(self, session: str) -> dict[str, Any]:
        return await self._json("GET", f"{API}/sessions/{session}")

    async def delete_session(self, session: str) -> dict[str, Any]:
        return await self._json("DELETE", f"{API}/sessions/{session}")

    async def cancel_graph(self, session: str, graph: str) -> dict[str, Any]:
        return await self._json("DELETE", f"{API}/sessions/{session}/graphs/{graph}")

    async def set_variable(self, session: str, variable: str, value: str) -> dict[str, Any]:
        return await self._json("PUT", f"{API}/sessions/{session}/variables/{variable}", {"value": value})

    # ---- fetching -------------------------------------------------------------

    async def get_variable(self, session: str, variable: str, perf: str, timeout: float | None) -> str:
        """The variable's value, long-polling (408 = not yet) until `timeout` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        path = f"{API}/sessions/{session}/variables/{variable}"
        while True:
            wait = POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - loop.time()))
            response = await self._send(
                "GET", path, params={"timeout": f"{wait:.3f}", "perf": perf},
                timeout=httpx.Timeout(self.timeout, read=wait + self.timeout, pool=None),
            )
            if response.status_code == 200:
                return str(response.json()["value"])
            if response.status_code != 408:
                raise error_from_response(response)
            if deadline is not None and loop.time() >= deadline:
                raise VariableTimeout(variable, timeout or 0.0)

    async def stream_variable(self, session: str, variable: str, perf: str) -> AsyncIterator[dict[str, Any]]:
        """The variable's server-sent events as dicts, up to (not including) `[DONE]`."""
        path = f"{API}/sessions/{session}/variables/{variable}/stream"
        # No read timeout: a queued call may send nothing for a long time; the
        # gateway's call_timeout_s bounds it.
        timeout = httpx.Timeout(self.timeout, read=None, pool=None)
        try:
            async with self.client.stream("GET", path, params={"perf": perf}, timeout=timeout) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise error_from_response(response)
                data: list[str] = []
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                        continue
                    if line or not data:
                        continue  # comments, other fields, stray blank lines
                    payload, data = "\n".join(data), []
                    if payload == "[DONE]":
                        return
                    yield json.loads(payload)
                if data and "\n".join(data) != "[DONE]":
                    yield json.loads("\n".join(data))
        except httpx.TransportError as exc:
            raise _connection_error(exc) from exc

    # ---- plumbing ---------------------------------------------------------------

    async def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._send(method, path, json=body)
        if response.status_code >= 400:
            raise error_from_response(response)
        return response.json()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise _connection_error(exc) from exc


def _connection_error(exc: httpx.TransportError) -> APIConnectionError:
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    what = type(exc).__name__
    return APIConnectionError(f"dataflow gateway unreachable ({what}: {exc or 'no detail'})", sent=sent)
