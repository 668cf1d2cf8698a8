"""One JSON POST to a guard's upstream, over the gateway's own HTTP client.

Shared by the guards that run on a served model (Llama Guard, classifiers).
Calls take the model's replicas in turn; one that cannot be reached is skipped
for the next while time is left. Every way the call can fail — refused, reset, timed out, a non-200 status, a
body that is too large or not JSON — comes out as a `GuardError`, so a guard
never hangs a request and never raises anything the policy pipeline does not
expect. The base URL comes from the configuration only; nothing in a request
chooses where a guard's call goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from gateway.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from gateway.upstream import Origin, UpstreamClient, build_head
from policies.guards.base import GuardError

# A base URL, or a callable returning it (a managed engine may move).
UrlSource = str | Callable[[], str]
MAX_REPLY_BYTES = 1 << 20


class GuardEndpoint:
    """POSTs JSON under a model's base URLs (its replicas); one keep-alive pool per origin."""

    def __init__(
        self,
        base_url: UrlSource | Sequence[UrlSource],
        *,
        timeout_s: float,
        client: UpstreamClient | None = None,
        headers: Mapping[str, str] | None = None,
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self._urls: list[UrlSource] = [base_url] if isinstance(base_url, str) or callable(base_url) else list(base_url)
        if not self._urls:
            raise ValueError("a guard needs at least one base URL")
        self._turn = 0
        self.timeout_s = timeout_s
        self._owns_client = client is None
        # Its own read timeout bounds a silent upstream even if a caller drops ours.
        self._client = client or UpstreamClient(
            limit_per_origin=64, connect_timeout=timeout_s, read_timeout=timeout_s
        )
        self._headers = [(b"content-type", b"application/json"), (b"accept", b"application/json")]
        self._headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        self._max_reply_bytes = max_reply_bytes
        self._resolved: dict[str, tuple[Origin, str]] = {}

    @property
    def base_urls(self) -> list[str]:
        return [url() if callable(url) else url for url in self._urls]

    def _target(self, source: UrlSource) -> tuple[Origin, str]:
        url = source() if callable(source) else source
        target = self._resolved.get(url)
        if target is None:
            origin, prefix = Origin.of(url)
            if origin.scheme not in ("http", "https") or not origin.host:
                raise GuardError(f"unreachable: not an http(s) URL: {url!r}")
            target = self._resolved[url] = (origin, prefix)
        return target

    async def post_json(self, path: str, payload: Mapping[str, Any], *, prefix: bool = True) -> Any:
        """POST `payload` to base URL + `path` (`prefix=False`: to `path` on the
        base URL's origin) and return the decoded 200 reply; raises GuardError."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._post_any(path, payload, prefix)
        except TimeoutError:
            raise GuardError(f"timed out after {self.timeout_s:g} s") from None
        except UpstreamTimeout as exc:
            raise GuardError(f"timed out: {exc}") from None
        except UpstreamError as exc:
            raise GuardError(f"unreachable: {exc}") from None
        except OSError as exc:
            raise GuardError(f"unreachable: {exc.strerror or exc}") from None

    async def _post_any(self, path: str, payload: Mapping[str, Any], prefix: bool) -> Any:
        """Replicas in turn, starting with the next one; an unreachable one is skipped."""
        first = self._turn
        self._turn = (self._turn + 1) % len(self._urls)
        for attempt in range(len(self._urls)):
            source = self._urls[(first + attempt) % len(self._urls)]
            try:
                return await self._post(source, path, payload, prefix)
            except UpstreamUnavailable:
                if attempt == len(self._urls) - 1:
                    raise
        raise AssertionError("unreachable")

    async def _post(self, source: UrlSource, path: str, payload: Mapping[str, Any], prefix: bool) -> Any:
        origin, base_path = self._target(source)
        body = orjson.dumps(payload)
        full_path = (base_path if prefix else "") + path
        head = build_head(b"POST", full_path.encode(), origin, self._headers, len(body))
        reply = await self._client.request(origin, head, body)
        chunks = reply.iter_chunks()
        data: list[bytes] = []
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > self._max_reply_bytes:
                    reply.abort()
                    raise GuardError(f"garbage: reply over {self._max_reply_bytes} bytes")
                data.append(chunk)
        finally:
            await chunks.aclose()  # returns a clean connection to its pool, drops a dirty one
        raw = b"".join(data)
        if reply.status != 200:
            raise GuardError(f"status {reply.status}: {_error_message(raw)}")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise GuardError(f"garbage: reply is not JSON ({len(raw)} bytes)") from None

    async def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _error_message(raw: bytes) -> str:
    """The upstream's error message when it sent an OpenAI/vLLM-shaped one."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return f"{len(raw)} bytes, not JSON"
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else body.get("detail", error)
        if isinstance(message, str):
            return message[:200]
    return "no error message"
