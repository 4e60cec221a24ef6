"""The GRPO reward, from the trusted evaluator only (SPEC §2, §3, §6). Every call training makes
into :mod:`evaluation` lives in this module.

Reward of one rollout on workspace W with submitted source s:

    1  iff  s passes the static validator, is tuned and replayed without error by the trusted
            evaluator, and its trusted test (forward) window cost per day is strictly below
            the lowest test-window cost of W's five baselines (each at its parameters
            pre-tuned on the replay window);
    0  otherwise: no submission, an invalid or failing policy, an evaluation past
       ``timeout`` seconds, or any exception.

The raw margin ``best baseline cost - submission cost`` (positive = better) and its relative
form are recorded for every scored submission. The score never comes from anything a
policy or an agent printed or wrote: the evaluator tunes in a sandboxed policy host and
replays the tuned policy itself, one decision at a time (:class:`evaluation.trusted.TrustedEvaluator`).
Baseline test costs are computed once per workspace and cached.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Sequence

from training.config import RewardConfig

log = logging.getLogger(__name__)


class RewardStatus(str, Enum):
    SUCCESS = "success"                # valid and strictly below the best baseline: reward 1
    NO_IMPROVEMENT = "no_improvement"  # valid, not strictly below the best baseline
    NO_SUBMISSION = "no_submission"
    INVALID = "invalid"                # rejected by the validator
    FAILED = "failed"                  # did not load, tune or replay (includes sandbox deadlines)
    TIMEOUT = "timeout"                # the whole evaluation ran past reward.timeout
    ERROR = "error"                    # an exception outside the policy (e.g. a broken workspace)
    UNSCORED = "unscored"              # the rollout itself broke (sandbox or generation failure): no reward at all


@dataclass(frozen=True)
class RewardOutcome:
    reward: float
    status: RewardStatus
    cost: float | None = None                # trusted test-window cost per day of the submission
    baseline_cost: float | None = None       # lowest test-window cost per day among the baselines
    baseline_name: str | None = None
    replay_cost: float | None = None         # trusted replay-window cost of the tuned submission
    params: dict[str, float] | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def valid(self) -> bool:
        return self.status in (RewardStatus.SUCCESS, RewardStatus.NO_IMPROVEMENT)

    @property
    def margin(self) -> float | None:
        """best baseline cost - submission cost (positive = cheaper than every baseline)."""
        return None if self.cost is None or self.baseline_cost is None else self.baseline_cost - self.cost

    @property
    def relative_change(self) -> float | None:
        """(submission - best baseline) / best baseline: the cost change (negative = cheaper)."""
        if self.cost is None or not self.baseline_cost:
            return None
        return (self.cost - self.baseline_cost) / self.baseline_cost

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["margin"], d["relative_change"] = self.margin, self.relative_change
        return d


def _success(cost: float, baseline: float) -> bool:
    return cost < baseline


class TrustedReward:
    """Scores submissions with the trusted evaluator; thread-safe; one policy host per evaluation."""

    def __init__(self, config: RewardConfig):
        self.config = config
        self._baselines: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ baselines

    def best_baseline(self, workspace: str | Path) -> tuple[str, float]:
        """(name, test-window cost per day) of the workspace's cheapest baseline on the test window."""
        key = str(Path(workspace).resolve())
        with self._lock:
            if key in self._baselines:
                return self._baselines[key]
        ws, ev, host = self._open(key)
        try:
            costs = {b.name: ev.forward(ws.baseline_source(b.name), b.name, f"baseline-{b.name}", b.params).forward_cost
                     for b in ws.baselines.values()}
        finally:
            ev.close()
            host.close()
        best = min(costs.items(), key=lambda kv: kv[1])
        with self._lock:
            self._baselines[key] = best
        return best

    # ------------------------------------------------------------ scoring

    def score(self, workspace: str | Path, source: str | None) -> RewardOutcome:
        """The reward of one submission (never raises; see the module docstring)."""
        if source is None:
            return RewardOutcome(0.0, RewardStatus.NO_SUBMISSION)
        t0 = time.monotonic()
        hosts: list[Any] = []
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["out"] = self._evaluate(str(workspace), source, hosts)
            except Exception as exc:  # noqa: BLE001 - reported as reward 0
                box["exc"] = exc

        th = threading.Thread(target=work, name="trusted-reward", daemon=True)
        th.start()
        th.join(self.config.timeout)
        seconds = time.monotonic() - t0
        if th.is_alive():
            for h in hosts:        # stop the sandboxed worker; the thread then ends on its own
                _close_quietly(h)
            log.warning("trusted evaluation on %s timed out after %.0fs: reward 0", workspace, seconds)
            return RewardOutcome(0.0, RewardStatus.TIMEOUT, error=f"evaluation exceeded {self.config.timeout:g}s",
                                 seconds=seconds)
        if "exc" in box:
            exc = box["exc"]
            log.error("trusted evaluation on %s raised %s: %s", workspace, type(exc).__name__, exc)
            return RewardOutcome(0.0, RewardStatus.ERROR, error=f"{type(exc).__name__}: {exc}", seconds=seconds)
        out: RewardOutcome = box["out"]
        return RewardOutcome(**{**asdict(out), "status": out.status, "seconds": seconds})

    def score_many(self, items: Sequence[tuple[str, str | None]],
                   on_done: Callable[[int, RewardOutcome], None] | None = None) -> list[RewardOutcome]:
        """Score ``(workspace, source)`` pairs, ``reward.workers`` at a time, in order."""
        def one(i: int) -> RewardOutcome:
            out = self.score(*items[i])
            if on_done is not None:
                on_done(i, out)
            return out

        if self.config.workers <= 1 or len(items) <= 1:
            return [one(i) for i in range(len(items))]
        with ThreadPoolExecutor(min(self.config.workers, len(items)), thread_name_prefix="reward") as pool:
            return list(pool.map(one, range(len(items))))

    # ------------------------------------------------------------ evaluator calls

    def _open(self, workspace: str, hosts: list[Any] | None = None) -> tuple[Any, Any, Any]:
        from evaluation.factory import open_host, policy_validator
        from evaluation.trusted import TrustedEvaluator
        from inventory.tuning import TuningConfig
        from inventory.workspace import load_workspace

        ws = load_workspace(workspace)
        if not ws.has_forward:
            raise ValueError(f"{workspace}: no test window (hidden/forward_window.json); cannot compute the reward")
        host = open_host(ws.replay_problem(), self.config.sandbox)
        if hosts is not None:
            hosts.append(host)
        ev = TrustedEvaluator(ws, host, TuningConfig(n_trials=self.config.trials, seed=self.config.seed),
                              validator=policy_validator())
        return ws, ev, host

    def _evaluate(self, workspace: str, source: str, hosts: list[Any]) -> RewardOutcome:
        base_name, base_cost = self.best_baseline(workspace)
        ws, ev, host = self._open(workspace, hosts)
        cid = f"rollout-{uuid.uuid4().hex[:10]}"
        try:
            rec = ev.evaluate(source, "submission", cid)
            if rec.status == "invalid":
                return RewardOutcome(0.0, RewardStatus.INVALID, baseline_cost=base_cost, baseline_name=base_name,
                                     error=rec.error)
            if not rec.ok:
                return RewardOutcome(0.0, RewardStatus.FAILED, baseline_cost=base_cost, baseline_name=base_name,
                                     error=rec.error)
            try:
                cost = ev.forward(source, "submission", cid, rec.params).forward_cost
            except Exception as exc:  # noqa: BLE001 - the policy failed on the test window
                return RewardOutcome(0.0, RewardStatus.FAILED, baseline_cost=base_cost, baseline_name=base_name,
                                     replay_cost=rec.replay_cost, params=dict(rec.params),
                                     error=f"test-window replay failed: {exc}")
        finally:
            ev.close()
            host.close()
        win = _success(cost, base_cost)
        return RewardOutcome(1.0 if win else 0.0, RewardStatus.SUCCESS if win else RewardStatus.NO_IMPROVEMENT,
                             cost=cost, baseline_cost=base_cost, baseline_name=base_name,
                             replay_cost=rec.replay_cost, params=dict(rec.params))


def _close_quietly(host: Any) -> None:
    try:
        host.close()
    except Exception as exc:  # noqa: BLE001
        log.debug("closing a timed-out policy host: %s", exc)
