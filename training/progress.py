"""Per-step metrics (``metrics.jsonl``), per-rollout records (``rollouts.jsonl``) and the progress bar.

One ``metrics.jsonl`` line per optimizer step:

| field | meaning |
|---|---|
| ``step`` | optimizer step (TRL's ``global_step``) |
| ``reward_mean``, ``reward_std`` | over the step's rollouts (all processes, from TRL's gathered log) |
| ``frac_zero_variance_groups`` | share of groups (G rollouts of one prompt) whose rewards are all equal |
| ``kl`` | mean KL to the reference policy (TRL; absent when beta = 0) |
| ``loss``, ``grad_norm``, ``learning_rate`` | from TRL |
| ``rollouts``, ``unscored``, ``tool_calls`` | rollouts of the step on this process, those whose sandbox or generation broke (no reward, zero advantage), their tool calls |
| ``model_tokens``, ``tool_tokens``, ``prompt_tokens`` | tokens of this step's rollouts on this process (sampled / tool results and template / prompts) |
| ``tokens_total`` | TRL's cumulative count of prompt + completion tokens (all processes) |
| ``successes``, ``valid_submissions``, ``margin_mean`` | trusted-reward outcomes on this process; margin = best baseline cost - cost |
| ``end_reasons`` | counts of rollout end reasons |
| ``seconds``, ``rollout_seconds``, ``reward_seconds``, ``seconds_total`` | wall time of the step, of its rollouts and of their trusted evaluation; cumulative |

``rollouts.jsonl`` has one line per rollout: step, group, workspace, reward outcome (status,
cost, baseline cost, margin), end reason, tool calls, token counts, wall time.

On resume, lines with a step beyond the checkpoint are dropped, so every step appears once.
"""
from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from training.reward import RewardOutcome, RewardStatus
from training.rollout import Rollout

METRICS_FILE = "metrics.jsonl"
ROLLOUTS_FILE = "rollouts.jsonl"
REWARD_NAME = "trusted_reward"


@dataclass
class StepStats:
    """What the rollout and reward functions learnt during the current step (this process)."""

    rollouts: list[Rollout] = field(default_factory=list)
    outcomes: list[RewardOutcome] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    rollout_seconds: float = 0.0
    reward_seconds: float = 0.0


class StepLog:
    """Shared between the rollout function, the reward function and :class:`MetricsCallback`."""

    def __init__(self, out_dir: Path, *, group_size: int, write: bool = True):
        self.out_dir, self.group_size, self.write = Path(out_dir), group_size, write
        self.current = StepStats()
        self._lock = threading.Lock()

    def add_rollouts(self, rollouts: list[Rollout], seconds: float) -> None:
        with self._lock:
            base = len(self.current.rollouts)
            self.current.rollouts.extend(rollouts)
            self.current.groups.extend((base + i) // self.group_size for i in range(len(rollouts)))
            self.current.rollout_seconds += seconds

    def add_outcomes(self, outcomes: list[RewardOutcome], seconds: float) -> None:
        with self._lock:
            self.current.outcomes.extend(outcomes)
            self.current.reward_seconds += seconds

    def take(self) -> StepStats:
        with self._lock:
            stats, self.current = self.current, StepStats()
            return stats

    def truncate_after(self, step: int) -> None:
        """Drop records of steps beyond ``step`` (resume from a checkpoint)."""
        for name in (METRICS_FILE, ROLLOUTS_FILE):
            path = self.out_dir / name
            if not path.exists():
                continue
            keep = [ln for ln in path.read_text(encoding="utf-8").splitlines()
                    if ln.strip() and json.loads(ln).get("step", 0) <= step]
            path.write_text("".join(ln + "\n" for ln in keep), encoding="utf-8")

    def last_total_seconds(self) -> float:
        path = self.out_dir / METRICS_FILE
        if not path.exists():
            return 0.0
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        return float(json.loads(lines[-1]).get("seconds_total", 0.0)) if lines else 0.0

    def append(self, name: str, records: list[dict[str, Any]]) -> None:
        if not self.write or not records:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with (self.out_dir / name).open("a", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, sort_keys=True) + "\n")


def zero_variance_fraction(rewards: list[float], groups: list[int]) -> float | None:
    by: dict[int, list[float]] = {}
    for r, g in zip(rewards, groups):
        by.setdefault(g, []).append(r)
    if not by:
        return None
    return sum(1 for v in by.values() if max(v) == min(v)) / len(by)


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _std(xs: list[float]) -> float | None:
    if len(xs) < 2:
        return 0.0 if xs else None
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


class MetricsCallback(TrainerCallback):
    """Writes one metrics line per optimizer step and drives the progress bar."""

    def __init__(self, step_log: StepLog, *, show_progress: bool = True):
        self.log, self.show_progress = step_log, show_progress
        self._bar: Any = None
        self._t_step = time.monotonic()
        self._total = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self._total = self.log.last_total_seconds()
        if self.show_progress and state.is_world_process_zero:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=state.max_steps, initial=state.global_step, desc="GRPO", unit="step")

    def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self._t_step = time.monotonic()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
        logs = logs or {}
        if "loss" not in logs:            # the end-of-training summary, not a step
            return
        stats = self.log.take()
        seconds = time.monotonic() - self._t_step
        self._total += seconds
        rewards = [o.reward for o in stats.outcomes if o.status is not RewardStatus.UNSCORED]
        groups = [g for g, o in zip(stats.groups, stats.outcomes) if o.status is not RewardStatus.UNSCORED]
        record = {
            "step": state.global_step,
            "reward_mean": logs.get(f"rewards/{REWARD_NAME}/mean", _mean(rewards)),
            "reward_std": logs.get(f"rewards/{REWARD_NAME}/std", _std(rewards)),
            "frac_zero_variance_groups": logs.get("frac_reward_zero_std",
                                                  zero_variance_fraction(rewards, groups)),
            "kl": logs.get("kl"),
            "loss": logs.get("loss"),
            "grad_norm": logs.get("grad_norm"),
            "learning_rate": logs.get("learning_rate"),
            "model_tokens": sum(r.model_tokens for r in stats.rollouts),
            "tool_tokens": sum(r.env_tokens for r in stats.rollouts),
            "prompt_tokens": sum(len(r.prompt_ids) for r in stats.rollouts),
            "tokens_total": logs.get("num_tokens"),
            "rollouts": len(stats.rollouts),
            "unscored": len(stats.outcomes) - len(rewards),
            "tool_calls": sum(r.tool_calls for r in stats.rollouts),
            "successes": sum(1 for o in stats.outcomes if o.reward > 0),
            "valid_submissions": sum(1 for o in stats.outcomes if o.valid),
            "margin_mean": _mean([o.margin for o in stats.outcomes if o.margin is not None]),
            "end_reasons": dict(Counter(r.end_reason for r in stats.rollouts)),
            "seconds": round(seconds, 3),
            "rollout_seconds": round(stats.rollout_seconds, 3),
            "reward_seconds": round(stats.reward_seconds, 3),
            "seconds_total": round(self._total, 3),
        }
        if state.is_world_process_zero:
            self.log.append("metrics.jsonl", [record])
            self.log.append("rollouts.jsonl", [_rollout_record(state.global_step, g, r, o) for g, r, o in
                                               zip(stats.groups, stats.rollouts, stats.outcomes)])
        if self._bar is not None:
            self._bar.update(state.global_step - self._bar.n)
            self._bar.set_postfix(reward=f"{record['reward_mean'] or 0:.2f}", s=f"{seconds:.1f}")

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _rollout_record(step: int, group: int, r: Rollout, o: RewardOutcome) -> dict[str, Any]:
    return {"step": step, "group": group, "workspace": r.workspace, "end_reason": r.end_reason,
            "tool_calls": r.tool_calls, "turns": r.turns, "model_tokens": r.model_tokens,
            "tool_tokens": r.env_tokens, "prompt_tokens": len(r.prompt_ids), "truncated": r.truncated,
            "wall_s": round(r.wall_s, 3), "error": r.error, **{f"reward_{k}": v for k, v in o.to_dict().items()}}
