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

from gateway.errors import AuthenticationFailed, BadRequest, GatewayError, PermissionDenied, RouteNotFound
from gateway.tenants.access import Access


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    name: str = Field(default="", max_length=200)
    # The key stops working this many seconds from now (default: never).
    expires_in_s: float | None = Field(default=None, gt=0, le=10 * 365 * 86400)


class AdminDisabled(PermissionDenied):
    code = "admin_disabled"


def mount(api: FastAPI, access: Access) -> None:
    def admin(request: Request) -> None:
        if not access.admin_enabled:
            raise AdminDisabled("the admin API is off: set auth.admin_key_env and that environment variable")
        if not access.is_admin(request.scope):
            raise AuthenticationFailed("this needs the admin key")

    def tenant(name: str) -> str:
        if name not in access.tenants:
            raise RouteNotFound(f"tenant {name!r} is not configured", code="tenant_not_found")
        return name

    @api.post("/admin/v1/keys", status_code=201)
    async def create_key(request: Request, body: NewKey) -> dict[str, Any]:
        admin(request)
        if body.tenant not in access.tenants:
            raise BadRequest(f"tenant {body.tenant!r} is not configured; add it under `tenants`", param="tenant")
        plain, record = await access.keys.create(body.tenant, body.name, body.expires_in_s)
        return {**record, "key": plain}

    @api.get("/admin/v1/keys")
    async def list_keys(request: Request, tenant: str | None = None) -> dict[str, Any]:
        admin(request)
        return {"object": "list", "data": await access.keys.list(tenant)}

    @api.delete("/admin/v1/keys/{key_id}")
    async def revoke_key(request: Request, key_id: str) -> dict[str, Any]:
        admin(request)
        record = await access.keys.revoke(key_id)
        if record is None:
            raise RouteNotFound(f"key {key_id!r} does not exist", code="key_not_found")
        return record

    @api.get("/admin/v1/tenants")
    async def tenants(request: Request) -> dict[str, Any]:
        admin(request)
        data = [{"id": name, "object": "tenant", **limits.config.model_dump(exclude={"key_hashes"})}
                for name, limits in access.tenants.items()]
        return {"object": "list", "data": data}

    @api.get("/admin/v1/tenants/{name}/usage")
    async def tenant_usage(request: Request, name: str) -> dict[str, Any]:
        admin(request)
        return await access.usage(tenant(name))

    @api.get("/v1/usage")
    async def own_usage(request: Request) -> JSONResponse:
        name = request.scope.get("semgate.tenant")
        if name not in access.tenants:  # authenticate() has already refused requests without a key
            raise GatewayError("no tenant for this request")
        return JSONResponse(await access.usage(name))
