"""A lean HTTP/1.1 client for talking to engines (see pool.py for why)."""

from gateway.upstream.pool import Origin, UpstreamClient, UpstreamReply, build_head

__all__ = ["Origin", "UpstreamClient", "UpstreamReply", "build_head"]
