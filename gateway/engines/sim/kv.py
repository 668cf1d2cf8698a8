"""Paged KV cache with automatic prefix caching, after vLLM V1's block pool.

Blocks hold `block_size` tokens. A full block is identified by a hash chained
over its tokens and its predecessor's hash, so equal prefixes share blocks.
A block whose last user lets go keeps its hash and stays findable until its
memory is needed: allocation takes never-cached blocks first, then evicts
cached ones in least-recently-freed order.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence


class Block:
    __slots__ = ("id", "hash", "refs")

    def __init__(self, block_id: int) -> None:
        self.id = block_id
        self.hash: int | None = None
        self.refs = 0


def block_hashes(token_ids: Sequence[int], block_size: int, start: int = 0, parent: int | None = None) -> list[int]:
    """Chained hashes of the full blocks of `token_ids`, from block `start`.

    Python's tuple-of-int hash is deterministic, and hashes only have to be
    unique within one engine, so the builtin is enough (and fast).
    """
    hashes: list[int] = []
    for begin in range(start * block_size, len(token_ids) - block_size + 1, block_size):
        parent = hash((parent, tuple(token_ids[begin : begin + block_size])))
        hashes.append(parent)
    return hashes


class KVCache:
    def __init__(self, num_blocks: int, block_size: int) -> None:
        self.num_blocks = num_blocks
        self.block_size = block_size
        self._free: deque[Block] = deque(Block(i) for i in range(num_blocks))
        # Cached blocks nobody holds, oldest first: the eviction order.
        self._evictable: OrderedDict[int, Block] = OrderedDict()
        self._by_hash: dict[int, Block] = {}

    @property
    def num_free(self) -> int:
        return len(self._free) + len(self._evictable)

    @property
    def usage(self) -> float:
        """Fraction of blocks held by requests, like vllm:kv_cache_usage_perc."""
        return 1.0 - self.num_free / self.num_blocks

    def cached_prefix(self, hashes: Sequence[int]) -> list[Block]:
        """The leading blocks of `hashes` that are in the cache (not yet held)."""
        found: list[Block] = []
        for block_hash in hashes:
            block = self._by_hash.get(block_hash)
            if block is None:
                break
            found.append(block)
        return found

    def hold(self, blocks: Sequence[Block]) -> None:
        """Take a reference on cache hits, protecting them from eviction."""
        for block in blocks:
            if block.refs == 0:
                self._evictable.pop(block.id, None)
            block.refs += 1

    def allocate(self, count: int) -> list[Block] | None:
        """`count` fresh blocks, or None (and nothing taken) if they don't fit."""
        if count > self.num_free:
            return None
        blocks = [self._take_one() for _ in range(count)]
        for block in blocks:
            block.refs = 1
        return blocks

    def _take_one(self) -> Block:
        if self._free:
            return self._free.popleft()
        _, block = self._evictable.popitem(last=False)
        del self._by_hash[block.hash]  # type: ignore[arg-type]
        block.hash = None
        return block

    def register(self, block: Block, block_hash: int) -> None:
        """Make a full block findable; a duplicate of a cached one stays private."""
        if block.hash is None and block_hash not in self._by_hash:
            block.hash = block_hash
            self._by_hash[block_hash] = block

    def release(self, blocks: Sequence[Block]) -> None:
        # Free the tail first so that, when evicting, the ends of sequences go
        # before the shared prefixes they hang off.
        for block in reversed(blocks):
            block.refs -= 1
            if block.refs > 0:
                continue
            if block.hash is None:
                self._free.append(block)
            else:
                self._evictable[block.id] = block
