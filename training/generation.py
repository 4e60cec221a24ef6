"""Token samplers for rollouts: prompt token ids in, sampled token ids and their log-probabilities out.

:class:`TokenGenerator` is the extension point. Implementations:

- :class:`HFGenerator`: transformers ``generate`` on the policy itself (CPU, or a GPU without
  vLLM). Log-probabilities come from the processed scores (temperature, top-p and any
  ``generation_kwargs`` such as ``sequence_bias`` applied), i.e. the distribution sampled.
- :class:`VLLMEngineGenerator`: an in-process ``vllm.LLM``. In training it is TRL's colocated
  engine (``GRPOConfig(use_vllm=True, vllm_mode="colocate")``), woken from sleep mode for the
  rollout batch and put back to sleep before the optimizer step.
- :class:`VLLMServerGenerator`: a ``trl vllm-serve`` (``vllm serve`` with weight transfer)
  process; TRL pushes the new weights to it before each rollout batch.

vLLM is imported inside the vLLM classes only: CPU runs never import it.

Contract of ``generate(requests)``: one :class:`Generation` per request, in order; the ids
are exactly what was sampled (ending with an EOS id when the model stopped by itself);
``logprobs[i]`` is the sampling log-probability of ``ids[i]``. Requests may ask to stop
once the decoded text satisfies ``stop_when`` (the text tool protocol stops after the first
complete tool block); :func:`cut_at_stop` trims any overshoot so every backend returns the
same, shortest such prefix.

:class:`RequestBatcher` lets concurrent rollouts (threads) share one generator: requests are
collected until every live rollout waits (or ``max_wait`` passes) and sampled as one batch.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterator, Sequence

log = logging.getLogger(__name__)

StopCheck = Callable[[str], bool]
# Cheap stop strings for vLLM: the end of a fenced block and of a <tool_call>. The exact
# check (a complete *tool* block) runs afterwards in cut_at_stop.
VLLM_STOP_STRINGS = ("\n```\n", "\n~~~\n", "</tool_call>")


class FinishReason(str, Enum):
    EOS = "eos"            # the model sampled an end-of-turn token
    STOP = "stop"          # the stop check (a complete tool block) fired
    LENGTH = "length"      # max_new_tokens reached


@dataclass(frozen=True)
class GenRequest:
    prompt_ids: list[int]
    max_new_tokens: int
    temperature: float = 1.0
    seed: int | None = None
    stop_when: StopCheck | None = None


@dataclass(frozen=True)
class Generation:
    ids: list[int]
    logprobs: list[float]
    finish: FinishReason

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.logprobs):
            raise ValueError(f"{len(self.ids)} ids but {len(self.logprobs)} logprobs")


class TokenGenerator(ABC):
    """Samples continuations of token-id prompts."""

    tokenizer: Any
    eos_ids: frozenset[int]

    @abstractmethod
    def generate(self, requests: Sequence[GenRequest]) -> list[Generation]:
        """One generation per request (see the module contract)."""

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Bracket a batch of rollouts (e.g. wake a sleeping engine); nothing by default."""
        yield


def cut_at_stop(tokenizer: Any, gen: Generation, stop_when: StopCheck | None) -> Generation:
    """The shortest prefix of ``gen`` whose decoded text satisfies ``stop_when`` (``gen`` if none does)."""
    if stop_when is None or not gen.ids:
        return gen
    decode = lambda n: tokenizer.decode(gen.ids[:n], skip_special_tokens=True)  # noqa: E731
    if not stop_when(decode(len(gen.ids))):
        return gen
    lo, hi = 1, len(gen.ids)          # invariant: stop_when(decode(hi)) is True
    while lo < hi:
        mid = (lo + hi) // 2
        if stop_when(decode(mid)):
            hi = mid
        else:
            lo = mid + 1
    if hi == len(gen.ids) and gen.finish is FinishReason.EOS:
        return gen
    return Generation(gen.ids[:hi], gen.logprobs[:hi], FinishReason.STOP)


# ---------------------------------------------------------------- transformers


class _TextStop:
    """Stopping criterion: ask ``check`` about the decoded new tokens.

    The full decode runs only when the newest token holds one of ``triggers`` (a tool block
    of the text protocol can only become complete on a fence character or the ``>`` of
    ``</tool_call>``), and every ``every`` tokens otherwise, so generation stops on the very
    token that completes the block at little cost.
    """

    def __init__(self, tokenizer: Any, prompt_len: int, check: StopCheck, triggers: str = "`~>", every: int = 64):
        self.tokenizer, self.prompt_len, self.check = tokenizer, prompt_len, check
        self.triggers, self.every = triggers, every

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        n_new = input_ids.shape[1] - self.prompt_len
        done = False
        if n_new > 0:
            last = self.tokenizer.decode(input_ids[0, -1:], skip_special_tokens=True)
            if n_new % self.every == 0 or any(c in last for c in self.triggers):
                done = bool(self.check(self.tokenizer.decode(input_ids[0, self.prompt_len:], skip_special_tokens=True)))
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class HFGenerator(TokenGenerator):
    """transformers ``generate`` with the sampling log-probabilities of each token.

    ``model_context`` yields the model to sample with (in training: TRL's
    ``unwrap_model_for_generation`` of the policy, so gradient checkpointing and distributed
    wrappers are handled as TRL does); it is entered once per :meth:`session`.
    """

    def __init__(self, model_context: Callable[[], contextlib.AbstractContextManager], tokenizer: Any,
                 eos_ids: frozenset[int], *, top_p: float = 1.0, generation_kwargs: dict[str, Any] | None = None):
        self.model_context, self.tokenizer, self.eos_ids = model_context, tokenizer, frozenset(eos_ids)
        self.top_p = top_p
        self.generation_kwargs = dict(generation_kwargs or {})
        self._model: Any = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        with self.model_context() as model:
            self._model = model
            try:
                yield
            finally:
                self._model = None

    def generate(self, requests: Sequence[GenRequest]) -> list[Generation]:
        if self._model is None:
            raise RuntimeError("HFGenerator.generate called outside session()")
        return [self._one(r) for r in requests]

    def _one(self, req: GenRequest) -> Generation:
        import torch
        from transformers import GenerationConfig

        model = self._model
        device = next(model.parameters()).device
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else min(self.eos_ids)
        sample = req.temperature > 0
        cfg = GenerationConfig(max_new_tokens=req.max_new_tokens, do_sample=sample, pad_token_id=pad,
                               eos_token_id=sorted(self.eos_ids), output_scores=True, return_dict_in_generate=True,
                               **({"temperature": req.temperature, "top_p": self.top_p, "top_k": 0} if sample else {}),
                               **self.generation_kwargs)
        with self._lock, torch.no_grad():
            if req.seed is not None:
                torch.manual_seed(req.seed)
            ids = torch.tensor([req.prompt_ids], device=device)
            stops = [_TextStop(self.tokenizer, ids.shape[1], req.stop_when)] if req.stop_when else None
            out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=cfg,
                                 stopping_criteria=stops)
        seq = out.sequences[0, ids.shape[1]:]
        scores = torch.stack(out.scores, 0)[:, 0, :].float()
        logps = torch.log_softmax(scores, dim=-1).gather(1, seq[:, None].to(scores.device))[:, 0]
        toks = [int(t) for t in seq.tolist()]
        if toks and toks[-1] in self.eos_ids:
            finish = FinishReason.EOS
        elif len(toks) < req.max_new_tokens:
            finish = FinishReason.STOP
        else:
            finish = FinishReason.LENGTH
        gen = Generation(toks, [float(x) for x in logps.tolist()], finish)
        return cut_at_stop(self.tokenizer, gen, req.stop_when)


# ---------------------------------------------------------------- vLLM


class VLLMEngineGenerator(TokenGenerator):
    """An in-process ``vllm.LLM``: TRL's colocated engine in training, a fresh one for evaluation.

    ``trl_generation`` (TRL's ``VLLMGeneration``) enables the sleep-mode bracket: weights are
    re-pushed from the policy if they were discarded, the KV cache is woken for the rollout
    batch, and the engine goes back to sleep (level 2) afterwards, as TRL itself does.
    """

    def __init__(self, llm: Any, tokenizer: Any, eos_ids: frozenset[int], *, top_p: float = 1.0, top_k: int = 0,
                 generation_kwargs: dict[str, Any] | None = None, trl_generation: Any = None):
        self.llm, self.tokenizer, self.eos_ids = llm, tokenizer, frozenset(eos_ids)
        self.top_p, self.top_k = top_p, top_k
        self.generation_kwargs = dict(generation_kwargs or {})
        self.trl_generation = trl_generation

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        vg = self.trl_generation
        sleeping = vg is not None and getattr(vg, "enable_sleep_mode", False)
        if sleeping:
            if getattr(vg, "_llm_weights_sleeping", False):
                vg.sync_weights()             # level-2 sleep discarded the weights
            self.llm.wake_up(tags=["kv_cache"])
        try:
            yield
        finally:
            if sleeping:
                self.llm.sleep(level=2)
                vg._llm_weights_sleeping = True

    def generate(self, requests: Sequence[GenRequest]) -> list[Generation]:
        from vllm import SamplingParams

        params = [SamplingParams(n=1, temperature=r.temperature, top_p=self.top_p, top_k=self.top_k,
                                 max_tokens=r.max_new_tokens, logprobs=0, seed=r.seed,
                                 stop=list(VLLM_STOP_STRINGS) if r.stop_when else None,
                                 include_stop_str_in_output=True, **self.generation_kwargs) for r in requests]
        outs = self.llm.generate([{"prompt_token_ids": r.prompt_ids} for r in requests], sampling_params=params,
                                 use_tqdm=False)
        result = []
        for req, out in zip(requests, outs, strict=True):
            c = out.outputs[0]
            ids = [int(t) for t in c.token_ids]
            logps = [float(step[t].logprob) for step, t in zip(c.logprobs or [], ids)]
            result.append(cut_at_stop(self.tokenizer, Generation(ids, logps, self._finish(ids, c.finish_reason)),
                                      req.stop_when))
        return result

    def _finish(self, ids: list[int], reason: str | None) -> FinishReason:
        if ids and ids[-1] in self.eos_ids:
            return FinishReason.EOS
        return FinishReason.LENGTH if reason == "length" else FinishReason.STOP


class VLLMServerGenerator(TokenGenerator):
    """A ``trl vllm-serve`` server, through TRL's ``VLLMClient`` (HTTP; the server batches concurrent requests)."""

    def __init__(self, base_url: str, tokenizer: Any, eos_ids: frozenset[int], *, top_p: float = 1.0, top_k: int = 0,
                 generation_kwargs: dict[str, Any] | None = None, connection_timeout: float = 240.0,
                 max_concurrent: int = 64):
        from trl.generation.vllm_client import VLLMClient

        self.client = VLLMClient(base_url=base_url, connection_timeout=connection_timeout)
        self.tokenizer, self.eos_ids = tokenizer, frozenset(eos_ids)
        self.top_p, self.top_k = top_p, top_k
        self.generation_kwargs = dict(generation_kwargs or {})
        self._pool = concurrent.futures.ThreadPoolExecutor(max_concurrent, thread_name_prefix="vllm-http")

    def generate(self, requests: Sequence[GenRequest]) -> list[Generation]:
        return list(self._pool.map(self._one, requests))

    def _one(self, req: GenRequest) -> Generation:
        extra = {**self.generation_kwargs, "include_stop_str_in_output": True}
        if req.stop_when:
            extra["stop"] = list(VLLM_STOP_STRINGS)
        if req.seed is not None:
            extra["seed"] = req.seed
        out = self.client.generate([req.prompt_ids], n=1, temperature=req.temperature, top_p=self.top_p,
                                   top_k=self.top_k, max_tokens=req.max_new_tokens, logprobs=0, generation_kwargs=extra)
        ids = [int(t) for t in out["completion_ids"][0]]
        logps = [float(step[0]) for step in (out["logprobs"] or [[]])[0]]
        if ids and ids[-1] in self.eos_ids:
            finish = FinishReason.EOS
        else:
            finish = FinishReason.LENGTH if len(ids) >= req.max_new_tokens else FinishReason.STOP
        return cut_at_stop(self.tokenizer, Generation(ids, logps, finish), req.stop_when)


# ---------------------------------------------------------------- batching


@dataclass
class _Slot:
    request: GenRequest
    result: Generation | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class RequestBatcher:
    """Shares one generator between rollout threads; see the module docstring.

    Each rollout thread calls :meth:`generate` for its own request; :meth:`join` and
    :meth:`leave` count the live rollouts, so a batch is sampled as soon as every live
    rollout is waiting, or ``max_wait`` seconds after the first request arrived.
    """

    inner: TokenGenerator
    max_wait: float = 0.05
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _pending: list[_Slot] = field(default_factory=list)
    _live: int = 0
    _busy: bool = False
    batch_sizes: list[int] = field(default_factory=list)

    def join(self) -> None:
        with self._cond:
            self._live += 1

    def leave(self) -> None:
        with self._cond:
            self._live -= 1
            self._cond.notify_all()

    def generate(self, request: GenRequest) -> Generation:
        slot = _Slot(request)
        with self._cond:
            self._pending.append(slot)
            first = time.monotonic()
            self._cond.notify_all()
            while not slot.done:
                ready = len(self._pending) >= max(self._live, 1) or time.monotonic() - first >= self.max_wait
                if self._pending and ready and not self._busy:
                    self._flush()
                else:
                    self._cond.wait(timeout=self.max_wait / 4 or 0.01)
        if slot.error is not None:
            raise slot.error
        assert slot.result is not None
        return slot.result

    def _flush(self) -> None:
        """Called with the lock held: sample every pending request, lock released meanwhile."""
        batch, self._pending, self._busy = self._pending, [], True
        self.batch_sizes.append(len(batch))
        self._cond.release()
        try:
            results = self.inner.generate([s.request for s in batch])
            error = None
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting rollout
            results, error = [], exc
        finally:
            self._cond.acquire()
        for i, s in enumerate(batch):
            s.result, s.error, s.done = (results[i] if error is None else None), error, True
        self._busy = False
        self._cond.notify_all()
