"""The admin API (`/admin/v1`, the admin key) and each tenant's own usage (`/v1/usage`).

    POST   /admin/v1/keys                 {"tenant", "name", "expires_in_s"?} -> the key, shown this once
    GET    /admin/v1/keys[?tenant=]       records without the keys
    DELETE /admin/v1/keys/{id}            revoke
    GET    /admin/v1/tenants              the configured tenants and their settings
    GET    /admin/v1/tenants/{t}/usage    a tenant's usage, budgets and limits
    GET    /v1/usage                      the caller's own tenant's usage
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import AuthenticationFailed, GatewayError, PermissionDenied, RouteNotFound
from gateway.exchange import Scope
from gateway.openapi import ErrorBody
from gateway.tenants.access import Access


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "60" is not a number of seconds

    tenant: str
    name: str = Field(default="", max_length=200)
    # The key stops working this many seconds from now (default: never).
    expires_in_s: float | None = Field(default=None, gt=0, le=10 * 365 * 86400)


class AdminDisabled(PermissionDenied):
    code = "admin_disabled"


def refusal(access: Access, scope: Scope) -> GatewayError | None:
    """Why a request to the admin API is refused, or None for the admin key.

    The gateway asks this at the ASGI level, before FastAPI reads or validates
    the body: a caller without the key learns nothing about the API, not even
    what a valid body looks like.
    """
    if not access.admin_enabled:
        return AdminDisabled("the admin API is off: set auth.admin_key_env and that environment variable")
    if not access.is_admin(scope):
        return AuthenticationFailed("this needs the admin key")
    return None


def mount(api: FastAPI, access: Access) -> None:
    """The routes; `refusal` has already let only the admin key through to /admin/v1."""

    def tenant(name: str) -> str:
        if name not in access.tenants:
            raise RouteNotFound(f"tenant {name!r} is not configured", code="tenant_not_found")
        return name

    @api.post("/admin/v1/keys", status_code=201, responses={404: {"model": ErrorBody, "description": "no such tenant"}})
    async def create_key(body: NewKey) -> dict[str, Any]:
        if body.tenant not in access.tenants:  # like an unknown model: a well-formed body naming nothing
            raise RouteNotFound(f"tenant {body.tenant!r} is not configured; add it under `tenants`",
                                param="tenant", code="tenant_not_found")
        plain, record = await access.keys.create(body.tenant, body.name, body.expires_in_s)
        return {**record, "key": plain}

    @api.get("/admin/v1/keys")
    async def list_keys(tenant: str | None = None) -> dict[str, Any]:
        return {"object": "list", "data": await access.keys.list(tenant)}

    @api.delete("/admin/v1/keys/{key_id}")
    async def revoke_key(key_id: str) -> dict[str, Any]:
        record = await access.keys.revoke(key_id)
        if record is None:
            raise RouteNotFound(f"key {key_id!r} does not exist", code="key_not_found")
        return record

    @api.get("/admin/v1/tenants")
    async def tenants() -> dict[str, Any]:
        data = [{"id": name, "object": "tenant", **limits.config.model_dump(exclude={"key_hashes"})}
                for name, limits in access.tenants.items()]
        return {"object": "list", "data": data}

    @api.get("/admin/v1/tenants/{name}/usage")
    async def tenant_usage(name: str) -> dict[str, Any]:
        return await access.usage(tenant(name))

    @api.get("/v1/usage")
    async def own_usage(request: Request) -> JSONResponse:
        name = request.scope.get("semgate.tenant")
        if name not in access.tenants:  # authenticate() has already refused requests without a key
            raise GatewayError("no tenant for this request")
        return JSONResponse(await access.usage(name))
