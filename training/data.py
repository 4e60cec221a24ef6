"""Training and held-out prompts: one row per workspace (paper Sec. 4.2; SPEC §6).

A :class:`PromptRow` identifies one workspace and carries the conversation the agent starts
from: the system prompt and the round-1 briefing built by :mod:`agent.prompts` from the
workspace's agent-visible files and its five pre-tuned baselines. The held-out list of the
split file is never trained on: :func:`training_rows` refuses any workspace it names, and
:func:`heldout_rows` is what checkpoint evaluation reads.

Split files (``<suite>/splits/<split>.json``) are those ``invevolve datagen`` writes: the
synthetic suite has ``train`` and ``test`` lists; the Complete Journey suite has a ``test``
list, and its other products may join training (``data.cj_suite``).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from agent.prompts import briefing, system_prompt
from evolve.proposer import PoolEntry, ProposalContext
from inventory.workspace import Workspace, WorkspaceError, load_workspace
from training.config import ConfigError, DataConfig

log = logging.getLogger(__name__)


class LeakageError(ValueError):
    """A held-out workspace was about to be used for training."""


@dataclass(frozen=True)
class PromptRow:
    """One training or evaluation prompt: a workspace and the agent's opening conversation."""

    workspace: str                     # absolute path of the workspace folder
    name: str                          # workspace name (folder name)
    prompt: tuple[dict[str, str], ...]  # [system, user briefing] in OpenAI chat format

    @property
    def key(self) -> str:
        return prompt_key(self.prompt)

    def to_record(self) -> dict[str, Any]:
        """A dataset row for TRL: ``prompt`` (conversational) plus the workspace columns."""
        return {"prompt": [dict(m) for m in self.prompt], "workspace": self.workspace, "name": self.name}


def prompt_key(prompt: Iterable[dict[str, Any]]) -> str:
    """Stable id of a prompt conversation (TRL hands rollout functions the prompts, not the rows)."""
    h = hashlib.sha256()
    for m in prompt:
        h.update(str(m.get("role", "")).encode() + b"\0" + str(m.get("content", "")).encode() + b"\1")
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class Split:
    train: tuple[str, ...]
    test: tuple[str, ...]
    path: Path


def read_split(suite: Path, split: str = "standard") -> Split:
    path = Path(suite) / "splits" / f"{split}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: split file not found (build the suite with `invevolve datagen`)") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("test"), list):
        raise ConfigError(f"{path}: field 'test' must be a list of workspace names")
    train = raw.get("train", [])
    if not isinstance(train, list) or not all(isinstance(n, str) for n in train + raw["test"]):
        raise ConfigError(f"{path}: fields 'train' and 'test' must be lists of workspace names")
    overlap = set(train) & set(raw["test"])
    if overlap:
        raise LeakageError(f"{path}: workspaces in both train and test: {sorted(overlap)}")
    return Split(tuple(train), tuple(raw["test"]), path)


def suite_names(suite: Path) -> list[str]:
    """Workspace names of a suite, from its ``suite.json`` index (or its folders when there is none)."""
    index = Path(suite) / "suite.json"
    if index.exists():
        raw = json.loads(index.read_text(encoding="utf-8"))
        return [str(r["name"]) for r in raw.get("workspaces", [])]
    return sorted(p.name for p in Path(suite).iterdir() if (p / "workspace.toml").exists())


def workspace_context(ws: Workspace) -> ProposalContext:
    """Round 1 of an evolve run on ``ws``: the five baselines with their pre-tuned replay costs, the best
    one champion and reference."""
    if not ws.baselines:
        raise WorkspaceError(ws.root, "baseline_policies", "has no tuned baselines to brief the agent with")
    pool = tuple(PoolEntry(f"baseline-{b.name}", b.name, ws.baseline_source(b.name), b.replay_cost, dict(b.params),
                           "baseline") for b in ws.baselines.values())
    best = min(pool, key=lambda e: e.replay_cost)
    return ProposalContext(ws, 1, 1, 0, pool, best.candidate_id, best.candidate_id)


def build_prompt(ws: Workspace, budget: int) -> tuple[dict[str, str], ...]:
    """The agent's opening conversation for ``ws``: system prompt and round-1 briefing (:func:`workspace_context`)."""
    return ({"role": "system", "content": system_prompt(budget)},
            {"role": "user", "content": briefing(workspace_context(ws), budget=budget, feedback_items=0, extras=[])})


def rows_for(paths: Iterable[Path], budget: int) -> list[PromptRow]:
    out = []
    for p in paths:
        ws = load_workspace(p)
        out.append(PromptRow(str(Path(p).resolve()), Path(p).name, build_prompt(ws, budget)))
    return out


def training_rows(config: DataConfig, budget: int) -> list[PromptRow]:
    """Prompts of the training split (plus CJ's non-test products when ``cj_suite`` is set).

    Raises :class:`LeakageError` if any selected workspace is on a held-out list.
    """
    suite = Path(config.suite)
    split = read_split(suite, config.split)
    if not split.train:
        raise ConfigError(f"{split.path}: field 'train' is empty; no training prompts")
    paths = [suite / n for n in split.train]
    held_out = {(suite.resolve(), n) for n in split.test}
    if config.cj_suite:
        cj = Path(config.cj_suite)
        cj_test = set(read_split(cj, config.split).test)
        held_out |= {(cj.resolve(), n) for n in cj_test}
        paths += [cj / n for n in suite_names(cj) if n not in cj_test]
    if config.max_prompts:
        paths = paths[: config.max_prompts]
    assert_not_held_out(paths, held_out)
    rows = rows_for(paths, budget)
    log.info("training prompts: %d workspaces (%s%s)", len(rows), split.path,
             f" + CJ non-test products of {config.cj_suite}" if config.cj_suite else "")
    return rows


def heldout_rows(suite: Path, split_name: str, which: str, budget: int, limit: int = 0) -> list[PromptRow]:
    """Prompts of one list (``test`` for evaluation) of a suite's split file."""
    split = read_split(Path(suite), split_name)
    names = {"test": split.test, "train": split.train}.get(which)
    if names is None:
        raise ConfigError(f"{split.path}: no list named {which!r} (train | test)")
    if limit:
        names = names[:limit]
    return rows_for([Path(suite) / n for n in names], budget)


def assert_not_held_out(paths: Iterable[Path], held_out: set[tuple[Path, str]]) -> None:
    """Refuse training on a workspace that a split holds out (by suite and name)."""
    bad = [str(p) for p in paths if (Path(p).parent.resolve(), Path(p).name) in held_out]
    if bad:
        raise LeakageError(f"held-out workspaces must never be trained on: {bad}")
