"""Token and cost accounting in the run directory.

Files (under ``<run_dir>/agent/``):
- ``usage.jsonl``: one line per episode (round, model, model calls, prompt/completion tokens,
  tool calls, cost in USD, wall time, end reason);
- ``usage_summary.json``: running totals overall and per round, rewritten atomically after
  every episode, so it is valid even if the run is killed.

Cost = prompt_tokens * price_prompt_per_mtok / 1e6 + completion_tokens * price_completion_per_mtok / 1e6
(prices from :class:`agent.config.AgentConfig`; 0 for local backends).
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EpisodeUsage:
    episode_id: str
    round: int
    model: str
    model_calls: int
    prompt_tokens: int
    completion_tokens: int
    tool_calls: int
    cost_usd: float
    wall_s: float
    end_reason: str


class UsageLedger:
    def __init__(self, run_dir: Path, *, price_prompt_per_mtok: float = 0.0, price_completion_per_mtok: float = 0.0):
        self.dir = Path(run_dir) / "agent"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.price_prompt, self.price_completion = price_prompt_per_mtok, price_completion_per_mtok
        self._lock = threading.Lock()
        self._totals: dict[str, Any] = {"episodes": 0, "model_calls": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                        "tool_calls": 0, "cost_usd": 0.0, "wall_s": 0.0, "endpoint_failures": 0}
        self._rounds: dict[str, dict[str, Any]] = {}

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return prompt_tokens * self.price_prompt / 1e6 + completion_tokens * self.price_completion / 1e6

    def record(self, usage: EpisodeUsage) -> None:
        with self._lock:
            with (self.dir / "usage.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(asdict(usage)) + "\n")
            for table in (self._totals, self._rounds.setdefault(str(usage.round), {})):
                table["episodes"] = table.get("episodes", 0) + 1
                for key in ("model_calls", "prompt_tokens", "completion_tokens", "tool_calls", "cost_usd", "wall_s"):
                    table[key] = table.get(key, 0) + getattr(usage, key)
                if usage.end_reason == "endpoint_error":
                    table["endpoint_failures"] = table.get("endpoint_failures", 0) + 1
            self._write_summary()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {"totals": dict(self._totals), "rounds": {k: dict(v) for k, v in self._rounds.items()},
                    "prices_per_mtok": {"prompt": self.price_prompt, "completion": self.price_completion}}

    def _write_summary(self) -> None:
        data = {"totals": self._totals, "rounds": self._rounds,
                "prices_per_mtok": {"prompt": self.price_prompt, "completion": self.price_completion}}
        tmp = self.dir / "usage_summary.json.tmp"
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.dir / "usage_summary.json")
