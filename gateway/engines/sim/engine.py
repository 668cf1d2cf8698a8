"""The simulated engine: a continuous-batching scheduler over a paged KV cache.

It follows vLLM V1's scheduler closely enough for a gateway to see the same
behaviour: every step schedules tokens for running sequences first (one per
decoding sequence, a chunk for prefilling ones), then admits waiting
sequences FCFS while the token budget, `max_num_seqs` and the KV cache allow;
when a running sequence cannot get a block, the newest running sequence is
preempted (its KV freed, to be recomputed later). A step takes the time the
profile's cost model says, divided by `speedup`; its sampled tokens are
delivered to the requests' queues when the step ends.

Each of a request's `n` choices is its own sequence, like vLLM V1's child
requests; they share the prompt through the prefix cache, because blocks are
registered when allocated, so later siblings hit the first one's blocks.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, deque
from dataclasses import dataclass

from .guard import GuardEmulation, VerdictGenerator
from .kv import KVCache, block_hashes
from .profiles import SimProfile
from .request import SamplingParams, Seq, SeqOutput, SimRequest
from .text import (
    Prompt,
    ProseGenerator,
    ScriptGenerator,
    StopChecker,
    derive_seed,
    token_id,
    tool_arguments,
)

# How far the loop may fall behind real time before it stops catching up:
# bounded so that a stall (GC, a slow test) doesn't cause a burst of steps.
_MAX_LAG_S = 0.05


class SimEngineError(ValueError):
    """A request the engine cannot serve (too long for max_model_len)."""


@dataclass(frozen=True, slots=True)
class EngineStats:
    running: int  # sequences (each of a request's n choices counts, as in vLLM V1)
    waiting: int
    completed: int  # requests
    aborted: int  # requests
    preemptions: int
    kv_cache_usage: float
    prompt_tokens: int
    generation_tokens: int
    prefix_cache_queries: int  # tokens, like vllm:prefix_cache_queries
    prefix_cache_hits: int
    sim_time_s: float  # modelled GPU time, before speedup
    steps: int
    # Wall seconds the loop fell behind its modelled pace (CPU-bound: too high
    # a speedup for the load); 0 means timings are faithful.
    lag_s: float


class SimEngine:
    def __init__(
        self,
        model_name: str,
        profile: SimProfile,
        seed: int = 0,
        speedup: float = 1.0,
        autostart: bool = True,
        guard: GuardEmulation | None = None,
    ) -> None:
        if speedup <= 0:
            raise ValueError(f"speedup must be > 0, got {speedup}")
        self.model_name = model_name
        self.profile = profile
        self.seed = seed
        self.speedup = speedup
        # Acting as a guard model (guard.py); None: the usual prose.
        self.guard = guard
        # Requests told to stall (guard emulation): released by abort_all().
        self._stalls: set[asyncio.Future[None]] = set()
        self.kv = KVCache(profile.num_blocks, profile.block_size)
        self.clock = 0.0
        self.steps = 0
        self.lag_s = 0.0
        self.aborted_requests = 0
        self.completed_requests = 0
        self.preemptions = 0
        self.prompt_tokens_total = 0
        self.generation_tokens_total = 0
        self.prefix_cache_queries = 0
        self.prefix_cache_hits = 0
        self.finish_reasons: Counter[str] = Counter()
        # The last finished requests, for tests and debugging.
        self.recent: deque[SimRequest] = deque(maxlen=256)
        self._waiting: deque[Seq] = deque()
        self._running: list[Seq] = []
        self._ids = itertools.count(1)
        self._autostart = autostart
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # ---- requests -------------------------------------------------------

    def submit(
        self,
        prompt: Prompt,
        params: SamplingParams,
        outputs: asyncio.Queue[SeqOutput] | None = None,
        index_offset: int = 0,
    ) -> SimRequest:
        """Queue a request; raises SimEngineError if the prompt is too long."""
        limit = self.profile.max_model_len
        if len(prompt.token_ids) >= limit:
            raise SimEngineError(
                f"prompt has {len(prompt.token_ids)} tokens; this model's maximum context length is {limit}"
            )
        max_tokens = min(params.max_tokens or self.profile.default_max_tokens, limit - len(prompt.token_ids))
        request = SimRequest(next(self._ids), prompt, params, outputs or asyncio.Queue(), index_offset, self.clock)
        hashes = block_hashes(prompt.token_ids, self.profile.block_size)
        for index in range(params.n):
            gen, stop = self._generator(prompt, params, index)
            request.seqs.append(Seq(request, index, gen, stop, max_tokens, list(hashes)))
        self._waiting.extend(request.seqs)
        self.prompt_tokens_total += request.prompt_tokens
        self._wake.set()
        if self._autostart:
            self._ensure_loop()
        return request

    def _generator(
        self, prompt: Prompt, params: SamplingParams, index: int
    ) -> tuple[ProseGenerator | ScriptGenerator | VerdictGenerator, StopChecker]:
        # Greedy choices are identical, so the choice index only seeds sampling.
        choice = index if params.temperature > 1e-5 else 0
        seed = derive_seed(self.seed, params.seed, prompt.text, choice, params.temperature, params.top_p)
        if self.guard is not None and self.guard.kind == "llama_guard" and params.tool is None:
            return VerdictGenerator(self.guard.reply(prompt.text), params.top_logprobs), StopChecker(params.stop)
        if params.tool is not None:
            args = tool_arguments(params.tool.parameters, seed)
            return ScriptGenerator(args, seed, params.top_logprobs, "tool_calls"), StopChecker(())
        gen = ProseGenerator(seed, params.temperature, params.top_p, params.top_logprobs, params.ignore_eos)
        return gen, StopChecker(params.stop)

    def abort(self, request: SimRequest) -> bool:
        """Stop a request and free its KV; False if it had already finished."""
        live = [seq for seq in request.seqs if seq.finish_reason is None]
        if not live:
            return False
        request.aborted = True
        for seq in live:
            if seq in self._waiting:
                self._waiting.remove(seq)
            self._finish(seq, "abort")
        return True

    def abort_all(self) -> int:
        for stall in list(self._stalls):
            if not stall.done():
                stall.set_result(None)
        requests = {seq.request.id: seq.request for seq in [*self._running, *self._waiting]}
        return sum(self.abort(request) for request in requests.values())

    def stall(self) -> asyncio.Future[None]:
        """A future that abort_all() resolves: a request that never gets an answer."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stalls.add(future)
        future.add_done_callback(self._stalls.discard)
        return future

    def stats(self) -> EngineStats:
        return EngineStats(
            running=len(self._running),
            waiting=len(self._waiting),
            completed=self.completed_requests,
            aborted=self.aborted_requests,
            preemptions=self.preemptions,
            kv_cache_usage=self.kv.usage,
            prompt_tokens=self.prompt_tokens_total,
            generation_tokens=self.generation_tokens_total,
            prefix_cache_queries=self.prefix_cache_queries,
            prefix_cache_hits=self.prefix_cache_hits,
            sim_time_s=self.clock,
            steps=self.steps,
            lag_s=self.lag_s,
        )

    # ---- the loop -------------------------------------------------------

    def _ensure_loop(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # submitted from sync code: the caller drives step()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            # A fresh event: an asyncio.Event is bound to the first loop that waits on it.
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name=f"sim-engine:{self.model_name}")

    async def start(self) -> None:
        self._ensure_loop()

    async def close(self) -> None:
        """Abort everything and stop the scheduler loop."""
        self.abort_all()
        task, self._task = self._task, None
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            plan = self._schedule()
            if not plan:
                # Nothing can run until a request arrives or one is aborted.
                self._wake.clear()
                await self._wake.wait()
                deadline = loop.time()
                continue
            duration = self._cost(plan)
            # Deadline-based pacing: sub-millisecond sleeps overshoot (epoll
            # has 1 ms resolution), and the next steps absorb the overshoot
            # instead of accumulating drift.
            floor = loop.time() - _MAX_LAG_S
            if deadline < floor:
                self.lag_s += floor - deadline
                deadline = floor
            deadline += duration / self.speedup
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            self._complete(plan, duration)

    def step(self) -> float:
        """Run one step without sleeping (for tests); returns its modelled seconds."""
        plan = self._schedule()
        duration = self._cost(plan)
        self._complete(plan, duration)
        return duration

    # ---- scheduling -----------------------------------------------------

    def _schedule(self) -> list[tuple[Seq, int]]:
        budget = self.profile.max_num_batched_tokens
        plan: list[tuple[Seq, int]] = []
        preempted = False
        position = 0
        while position < len(self._running) and budget > 0:
            seq = self._running[position]
            count = min(len(seq.token_ids) - seq.num_computed, budget)
            if self._grow(seq, count):
                plan.append((seq, count))
                budget -= count
                position += 1
                continue
            victim = self._running.pop()  # the newest goes back to waiting
            self._preempt(victim)
            preempted = True
        # Like vLLM: no admissions in a step that had to preempt (unless that
        # emptied the batch, which would otherwise stall the loop).
        blocked = preempted and bool(self._running)
        while not blocked and self._waiting and budget > 0 and len(self._running) < self.profile.max_num_seqs:
            seq = self._waiting[0]
            admitted = self._admit(seq, budget)
            if admitted is None:
                break  # FCFS: the head waits for memory, and so does everyone behind it
            self._waiting.popleft()
            self._running.append(seq)
            plan.append((seq, admitted))
            budget -= admitted
        return plan

    def _blocks_for(self, tokens: int) -> int:
        return -(-tokens // self.profile.block_size)

    def _grow(self, seq: Seq, count: int) -> bool:
        """Give `seq` blocks for `count` more tokens; False if the cache is full."""
        need = self._blocks_for(seq.num_computed + count) - len(seq.blocks)
        if need > 0:
            blocks = self.kv.allocate(need)
            if blocks is None:
                return False
            seq.blocks.extend(blocks)
        self._register(seq, seq.num_computed + count)
        return True

    def _admit(self, seq: Seq, budget: int) -> int | None:
        """Look up the prefix cache and allocate; the token count, or None."""
        size = self.profile.block_size
        total = len(seq.token_ids)
        self._extend_hashes(seq)
        # At least one token is always computed, to produce the next one.
        hits = self.kv.cached_prefix(seq.hashes[: (total - 1) // size])
        computed = len(hits) * size
        count = min(total - computed, budget)
        need = self._blocks_for(computed + count) - len(hits)
        idle_hits = sum(1 for block in hits if block.refs == 0)
        if need + idle_hits > self.kv.num_free:
            return None
        self.kv.hold(hits)
        seq.blocks = hits + (self.kv.allocate(need) or [])
        seq.num_computed = computed
        seq.registered = len(hits)
        self._register(seq, computed + count)
        self._count_lookup(seq, total, computed)
        return count

    def _count_lookup(self, seq: Seq, total: int, computed: int) -> None:
        self.prefix_cache_queries += total
        self.prefix_cache_hits += computed
        if seq.index == 0 and not seq.admitted:
            seq.request.cached_tokens = computed
        seq.admitted = True

    def _extend_hashes(self, seq: Seq) -> None:
        size = self.profile.block_size
        if len(seq.hashes) < len(seq.token_ids) // size:
            parent = seq.hashes[-1] if seq.hashes else None
            seq.hashes.extend(block_hashes(seq.token_ids, size, len(seq.hashes), parent))

    def _register(self, seq: Seq, tokens: int) -> None:
        """Make the full blocks among the first `tokens` findable (vLLM V1 does
        this at allocation, so same-step siblings already share them)."""
        full = tokens // self.profile.block_size
        if seq.registered >= full:
            return
        self._extend_hashes(seq)
        for position in range(seq.registered, full):
            self.kv.register(seq.blocks[position], seq.hashes[position])
        seq.registered = full

    def _preempt(self, seq: Seq) -> None:
        self.kv.release(seq.blocks)
        seq.blocks = []
        seq.num_computed = seq.registered = 0
        self._waiting.appendleft(seq)
        self.preemptions += 1

    def _cost(self, plan: list[tuple[Seq, int]]) -> float:
        decode_seqs = context = prefill = 0
        for seq, count in plan:
            if count == 1 and seq.generated > 0:
                decode_seqs += 1
                context += seq.num_computed
            else:
                prefill += count
        return self.profile.step_seconds(decode_seqs, context, prefill)

    # ---- step results ---------------------------------------------------

    def _complete(self, plan: list[tuple[Seq, int]], duration: float) -> None:
        self.clock += duration
        if plan:
            self.steps += 1
        for seq, count in plan:
            if seq.finish_reason is not None:
                continue  # aborted while the step ran
            if seq.generated == 0:
                seq.request.prefill_tokens_computed += count
            seq.num_computed += count
            if seq.num_computed == len(seq.token_ids):
                self._sample(seq)

    def _sample(self, seq: Seq) -> None:
        request = seq.request
        token = seq.gen.next()
        seq.generated += 1
        self.generation_tokens_total += 1
        if request.first_token_clock is None:
            request.first_token_clock = self.clock
        text, stopped = seq.stop.feed(token.text)
        finish = token.finish or ("stop" if stopped else None)
        if finish is None and seq.generated >= seq.max_tokens:
            finish = "length"
        if finish is not None and not stopped:
            text += seq.stop.flush()
        seq.token_ids.append(token_id(token.text))
        request.outputs.put_nowait(SeqOutput(request.index_offset + seq.index, text, token, finish))
        if finish is not None:
            self._finish(seq, finish)

    def _finish(self, seq: Seq, reason: str) -> None:
        if seq in self._running:
            self._running.remove(seq)
        self.kv.release(seq.blocks)
        seq.blocks = []
        seq.finish_reason = reason
        request = seq.request
        if reason == "abort":
            request.outputs.put_nowait(SeqOutput(request.index_offset + seq.index, "", None, "abort"))
        if not request.finished:
            return
        request.finish_clock = self.clock
        if request.aborted:
            self.aborted_requests += 1
        else:
            self.completed_requests += 1
        self.finish_reasons["abort" if request.aborted else reason] += 1
        self.recent.append(request)
        self._wake.set()
