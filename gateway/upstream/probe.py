"""A one-shot `GET` for health probes: status code or None, never an exception."""

from __future__ import annotations

import asyncio


async def get_status(host: str, port: int, path: str = "/health", *, timeout: float = 2.0, tls: bool = False) -> int | None:
    """Status code of `GET path`, or None if nothing answers in time."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls or None)
            writer.write(f"GET {path} HTTP/1.1\r\nhost: {host}:{port}\r\nconnection: close\r\n\r\n".encode())
            status_line = await reader.readline()
    except (OSError, TimeoutError):
        return None
    finally:
        if writer is not None:
            writer.close()
    parts = status_line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
