"""`semgate keys …` and `semgate usage …`: the admin API from a shell.

They talk to a running gateway (any replica: keys live in its store), so
they work the same for one process with the in-memory store and for a fleet
sharing Redis. The admin key comes from an environment variable, never from
the command line (where `ps` and shell history would keep it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8080"


class AdminError(Exception):
    pass


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    key = os.environ.get(args.admin_key_env)
    if not key:
        raise AdminError(f"set {args.admin_key_env} to the gateway's admin key")
    try:
        reply = httpx.request(method, args.url.rstrip("/") + path, headers={"authorization": f"Bearer {key}"},
                              timeout=30, **kwargs)
    except httpx.HTTPError as exc:
        raise AdminError(f"cannot reach {args.url}: {exc}") from None
    try:
        body = reply.json()
    except ValueError:
        raise AdminError(f"{args.url} answered {reply.status_code} without JSON: is it a Semgate gateway?") from None
    if reply.status_code >= 400:
        raise AdminError(f"{reply.status_code}: {body.get('error', {}).get('message', body)}")
    return body


def duration(text: str) -> float:
    """Seconds from `90`, `90s`, `15m`, `12h` or `30d`."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
    try:
        seconds = float(number) * unit
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 3600, 15m, 12h, 30d)") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return seconds


def create(args: argparse.Namespace) -> int:
    body = {"tenant": args.tenant, "name": args.name}
    if args.expires_in is not None:
        body["expires_in_s"] = args.expires_in
    record = _call(args, "POST", "/admin/v1/keys", json=body)
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(record["key"])
        print(f"# {record['id']} for tenant {record['tenant']}: shown once, store it now", file=sys.stderr)
    return 0


def list_keys(args: argparse.Namespace) -> int:
    records = _call(args, "GET", "/admin/v1/keys", params={"tenant": args.tenant} if args.tenant else None)["data"]
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    print(f"{'id':<22} {'tenant':<16} {'name':<16} {'key':<16} {'status'}")
    now = time.time()
    for r in records:
        status = "revoked" if r["revoked"] else "expired" if r.get("expires") and r["expires"] <= now else "active"
        print(f"{r['id']:<22} {r['tenant']:<16} {r['name'][:16]:<16} {r['hint']:<16} {status}")
    return 0


def revoke(args: argparse.Namespace) -> int:
    record = _call(args, "DELETE", f"/admin/v1/keys/{args.key_id}")
    print(f"revoked {record['id']} (tenant {record['tenant']})")
    return 0


def usage(args: argparse.Namespace) -> int:
    print(json.dumps(_call(args, "GET", f"/admin/v1/tenants/{args.tenant}/usage"), indent=2))
    return 0


def _guarded(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(command(args))
        except AdminError as exc:
            print(f"semgate: {exc}", file=sys.stderr)
            return 1

    return run


def add_commands(commands: Any) -> None:
    """Register `keys` and `usage` on the `semgate` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=os.environ.get("SEMGATE_URL", DEFAULT_URL),
                        help=f"a gateway replica (default: $SEMGATE_URL, else {DEFAULT_URL})")
    common.add_argument("--admin-key-env", default="SEMGATE_ADMIN_KEY",
                        help="environment variable holding the admin key (default SEMGATE_ADMIN_KEY)")
    common.add_argument("--json", action="store_true", help="print JSON")

    keys = commands.add_parser("keys", help="create, list and revoke API keys").add_subparsers(dest="action",
                                                                                             required=True)
    p = keys.add_parser("create", parents=[common], help="a new key for a tenant (printed once)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--name", default="", help="what the key is for")
    p.add_argument("--expires-in", type=duration, default=None, help="e.g. 12h or 30d (default: never)")
    p.set_defaults(run=_guarded(create))
    p = keys.add_parser("list", parents=[common], help="keys (never the keys themselves)")
    p.add_argument("--tenant", default=None)
    p.set_defaults(run=_guarded(list_keys))
    p = keys.add_parser("revoke", parents=[common], help="revoke a key by id")
    p.add_argument("key_id")
    p.set_defaults(run=_guarded(revoke))

    p = commands.add_parser("usage", parents=[common], help="a tenant's usage, budgets and limits")
    p.add_argument("tenant")
    p.set_defaults(run=_guarded(usage))
