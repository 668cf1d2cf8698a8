"""Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2016).

Each replica owns VNODES points on a 32-bit ring; a key's point is the hash of
the key, and its replica is the owner of the first point at or after it.
Equal keys meet on one replica (its prefix cache is warm for them); adding or
removing a replica moves only ~1/n of the keys. The bound: a replica whose
load would exceed ceil(load_bound x mean load) is passed over for the next
owner along the ring, so a hot key spills onto a few replicas, always the
same ones in the same order, rather than overloading one (HAProxy's
`hash-balance-factor`).

One change for LLM engines: the bound is never below the mean plus
LOAD_SLACK requests. At a few requests per replica, ceil(1.25 x mean) is
mean + 1, so keys spill on every small burst and each shared prompt ends up
cached on three replicas of four (simulated, 48 equally popular keys: 79 %
of requests on their key's owner at 1.5 requests in flight per replica, 86 %
at 5; with a slack of 4, 99.7 % and 97 %; at 20 the slack no longer binds).
A few more sequences in a continuously batched engine cost next to nothing
(decode is memory-bound), a cache miss costs a whole prefill; once the
imbalance could queue, the scraped waiting queue is in the load and the
bound applies as usual.

Keys hash with CRC32, as nginx's `hash ... consistent` does: deterministic
(Python's hash() is salted per process, and gateway workers must agree on
where a key goes) and a few times cheaper per request than a cryptographic
hash. The ring's points, computed once, use blake2b for an even spread.
"""

from __future__ import annotations

import bisect
import math
import zlib
from collections.abc import Sequence
from hashlib import blake2b
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from router.replicas import Replica

# Points per replica: with 256, each of four replicas owns within ~10 % of a
# quarter of the ring (128: ~20 %); lookups stay one C bisect.
VNODES = 256
# Requests above the mean a replica may always take (see above).
LOAD_SLACK = 4


def point(key: bytes) -> int:
    """A key's place on the ring, 0 <= point < 2**32."""
    return zlib.crc32(key)


def _vnode_point(name: str, vnode: int) -> int:
    return int.from_bytes(blake2b(f"{name}#{vnode}".encode(), digest_size=4).digest(), "big")


class HashRing:
    __slots__ = ("_count", "_owners", "_points")

    def __init__(self, names: Sequence[str], vnodes: int = VNODES) -> None:
        # A replica's name (its URL when the set was built) places its points,
        # so every gateway with the same replicas builds the same ring.
        placed = sorted((_vnode_point(name, v), index) for index, name in enumerate(names) for v in range(vnodes))
        self._points = [p for p, _ in placed]
        self._owners = [index for _, index in placed]
        self._count = len(names)

    def owners(self, key: bytes) -> list[int]:
        """Replica indexes in the order the key walks them (for tests and docs)."""
        seen: list[int] = []
        start = bisect.bisect_left(self._points, point(key))
        size = len(self._points)
        for step in range(size):
            owner = self._owners[(start + step) % size]
            if owner not in seen:
                seen.append(owner)
                if len(seen) == self._count:
                    break
        return seen

    def choose(
        self,
        key: bytes,
        replicas: Sequence[Replica],
        exclude: tuple[Replica, ...],
        load_bound: float,
        slack: float = LOAD_SLACK,
    ) -> Replica | None:
        """The first available replica along the key's walk whose load stays
        within the bound; the least loaded available one if none does (loads
        are fractional with scraping, so the bound can exclude everyone);
        None if no replica is available."""
        total = 0.0
        usable = 0
        for replica in replicas:
            if replica.available and replica not in exclude:
                total += replica.in_flight + replica.external_load
                usable += 1
        if not usable:
            return None
        # The request being placed counts: with nothing in flight the mean is 1/n, not 0.
        mean = (total + 1) / usable
        bound = max(math.ceil(load_bound * mean), mean + slack)
        points, owners = self._points, self._owners
        size = len(points)
        index = bisect.bisect_left(points, point(key))
        seen = 0  # bitmask of replica indexes already considered
        considered = 0
        least: Replica | None = None
        least_load = math.inf
        for _ in range(size):
            if index == size:
                index = 0
            owner = owners[index]
            index += 1
            if seen >> owner & 1:
                continue
            seen |= 1 << owner
            replica = replicas[owner]
            if replica.available and replica not in exclude:
                load = replica.in_flight + replica.external_load
                if load + 1 <= bound:
                    return replica
                if load < least_load:
                    least, least_load = replica, load
            considered += 1
            if considered == self._count:
                break
        return least
