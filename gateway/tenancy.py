"""Who a request is for: the tenant that owns what it creates.

With authentication on (gateway/tenants), the key's configured tenant is put
in the scope. Without it, each distinct bearer key is its own tenant, named by
a hash of the key (the key itself is never kept or logged). Requests the gateway makes to itself carry the tenant in the ASGI
scope (`semgate.tenant`) instead of a key.
"""

from __future__ import annotations

import hashlib

from gateway.exchange import Scope
from gateway.headers import find_header

ANONYMOUS = "anonymous"


def bearer(scope: Scope) -> bytes | None:
    """The request's bearer key, if it sent one."""
    value = find_header(scope["headers"], b"authorization")
    if not value or value[:7].lower() != b"bearer ":
        return None
    return value[7:].strip() or None


def tenant_of(scope: Scope) -> str:
    internal = scope.get("semgate.tenant")
    if internal:
        return str(internal)
    key = bearer(scope)
    if key is None:
        return ANONYMOUS
    return "k" + hashlib.sha256(key).hexdigest()[:24]
