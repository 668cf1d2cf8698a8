"""One-shot `GET`s for health probes and metrics scrapes: never an exception.

A fresh connection each time (`connection: close`): these run every few
seconds per replica, off the request path, and must not hold pool slots.
"""

from __future__ import annotations

import asyncio
import ssl


async def fetch(
    scheme: str, host: str, port: int, path: str, timeout: float, max_body: int = 1 << 20
) -> tuple[int, bytes] | None:
    """(status, body) of `GET path` on a fresh connection, or None on any failure."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            tls = ssl.create_default_context() if scheme == "https" else None
            reader, writer = await asyncio.open_connection(host, port, ssl=tls)
            writer.write(
                f"GET {path} HTTP/1.1\r\nhost: {host}:{port}\r\naccept: text/plain\r\n"
                "accept-encoding: identity\r\nconnection: close\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            chunks: list[bytes] = []
            size = 0
            while chunk := await reader.read(65536):  # connection: close, so EOF ends the body
                size += len(chunk)
                if size > max_body:
                    return None
                chunks.append(chunk)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError):
        return None
    finally:
        if writer is not None:
            writer.close()
    status_line, _, headers = head.partition(b"\r\n")
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    body = b"".join(chunks)
    if b"transfer-encoding: chunked" in headers.lower():
        body = _dechunk(body)
    return int(parts[1]), body


def _dechunk(data: bytes) -> bytes:
    out: list[bytes] = []
    position = 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            break
        try:
            size = int(data[position:line_end].split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        start = line_end + 2
        out.append(data[start : start + size])
        position = start + size + 2
    return b"".join(out)


async def get_status(host: str, port: int, path: str = "/health", *, timeout: float = 2.0, tls: bool = False) -> int | None:
    """Status code of `GET path`, or None if nothing answers in time."""
    reply = await fetch("https" if tls else "http", host, port, path, timeout)
    return reply[0] if reply is not None else None
