"""Who a request is for: the tenant that owns what it creates.

Until API keys are provisioned per tenant, each distinct bearer key is its
own tenant, named by a hash of the key (the key itself is never kept or
logged). Requests the gateway makes to itself carry the tenant in the ASGI
scope (`semgate.tenant`) instead of a key.
"""

from __future__ import annotations

import hashlib

from gateway.exchange import Scope
from gateway.headers import find_header

ANONYMOUS = "anonymous"


def tenant_of(scope: Scope) -> str:
    internal = scope.get("semgate.tenant")
    if internal:
        return str(internal)
    authorization = find_header(scope["headers"], b"authorization")
    if not authorization or not authorization[:7].lower() == b"bearer ":
        return ANONYMOUS
    key = authorization[7:].strip()
    if not key:
        return ANONYMOUS
    return "k" + hashlib.sha256(key).hexdigest()[:24]
