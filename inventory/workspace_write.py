"""Writing a complete workspace: the spec as commented TOML, both windows, the five tuned
baselines, the description, and the manifests last (an interrupted write fails on load)."""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import tomli_w

from inventory.library import BASELINES, policy_source
from inventory.policy import compile_policy
from inventory.replay import ReplayProblem
from inventory.sequence import DemandSequence
from inventory.tuning import TuningConfig, tune_policy
from inventory.workspace import BaselineRecord, Workspace, WorkspaceSpec, load_workspace, seal
from inventory.workspace_layout import (BASELINE_DIR, EVALUATION_FILE, FORMAT_VERSION, FORWARD_FILE, HIDDEN_DIR,
                                        REPLAY_FILE, SPEC_FILE, TUNED_FILE, DESCRIPTION_FILE)

__all__ = ["spec_toml", "write_workspace"]


def _sequence_json(seq: DemandSequence) -> dict[str, Any]:
    def col(values: np.ndarray) -> list[Any]:
        if values.dtype == object:
            return [str(v) for v in values]
        return [float(v) if not float(v).is_integer() else int(v) for v in values]
    return {"dates": list(seq.dates), "demand": col(seq.demand), "features": {k: col(v) for k, v in seq.features.items()}}


def spec_toml(spec: WorkspaceSpec) -> dict[str, Any]:
    pr = spec.problem
    problem = {"name": pr.name, "domain": pr.domain, "item": pr.item, "unit": pr.unit, "h": pr.h, "p": pr.p,
               "lead_time": pr.lead_time, "replay_days": pr.replay_days, "forward_days": pr.forward_days}
    if pr.context:
        problem["context"] = pr.context
    feats = {}
    for f in spec.features:
        entry: dict[str, Any] = {"kind": f.kind.value, "availability": f.availability.value}
        if f.horizon:
            entry["horizon"] = f.horizon
        if f.description:
            entry["description"] = f.description
        feats[f.name] = entry
    out = {"format_version": FORMAT_VERSION, "problem": problem,
           "initial_state": {"on_hand": spec.initial.on_hand, "pipeline": list(spec.initial.pipeline)},
           "features": feats}
    if spec.demand_model is not None:
        out["demand_model"] = spec.demand_model.to_toml()
    return out


def write_workspace(
    out: str | Path,
    spec: WorkspaceSpec,
    replay: DemandSequence,
    forward: DemandSequence | None,
    *,
    tuning: TuningConfig = TuningConfig(),
    hidden_files: Mapping[str, bytes] | None = None,
    overwrite: bool = False,
) -> Workspace:
    """Write a complete workspace, tuning the five baselines on ``replay``.

    ``hidden_files`` (relative to ``hidden/``) hold audit data that must never reach an
    agent. The manifest is written last, so an interrupted write is detected on load.
    """
    from inventory.description import render_description  # local: keeps import graph shallow

    root = Path(out)
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{root} already holds files; refusing to overwrite")
        shutil.rmtree(root)
    if len(replay) != spec.problem.replay_days:
        raise ValueError(f"replay has {len(replay)} days but spec says {spec.problem.replay_days}")
    if forward is not None and len(forward) != spec.problem.forward_days:
        raise ValueError(f"forward has {len(forward)} days but spec says {spec.problem.forward_days}")
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / BASELINE_DIR).mkdir(exist_ok=True)
    (root / SPEC_FILE).write_text(_toml_header(spec) + tomli_w.dumps(spec_toml(spec)), encoding="utf-8")
    (root / REPLAY_FILE).write_text(json.dumps(_sequence_json(replay)) + "\n", encoding="utf-8")
    evaluation = resources.files("inventory.templates").joinpath("evaluation.py").read_text(encoding="utf-8")
    (root / EVALUATION_FILE).write_text(evaluation, encoding="utf-8")

    problem = ReplayProblem(replay, spec.features, spec.model, spec.initial)
    tuned = {}
    for name in BASELINES:
        src = policy_source(name)
        (root / BASELINE_DIR / f"{name}.py").write_text(src, encoding="utf-8")
        res = tune_policy(compile_policy(src, name), problem, tuning, study_name=name)
        tuned[name] = {"params": res.params, "replay_cost": res.value, "n_trials": res.n_trials, "seed": tuning.seed}
    (root / TUNED_FILE).write_text(json.dumps(tuned, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    records = {k: BaselineRecord(k, v["params"], v["replay_cost"], v["n_trials"], v["seed"]) for k, v in tuned.items()}
    (root / DESCRIPTION_FILE).write_text(render_description(spec, replay, records), encoding="utf-8")
    if forward is not None or hidden_files:
        (root / HIDDEN_DIR).mkdir(exist_ok=True)
    if forward is not None:
        (root / FORWARD_FILE).write_text(json.dumps(_sequence_json(forward)) + "\n", encoding="utf-8")
    for rel, data in (hidden_files or {}).items():
        target = root / HIDDEN_DIR / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    seal(root)
    return load_workspace(root)


def _toml_header(spec: WorkspaceSpec) -> str:
    return (
        "# invevolve workspace definition (read by the evaluator; see problem_description.md).\n"
        "# h: holding cost per unit left at day end; p: lost-sales penalty per unit short.\n"
        "# lead_time: an order placed on day t arrives at the start of day t + lead_time.\n"
        "# features.*.availability: after_day | same_day | known_ahead (with horizon in days).\n"
        + ("# demand_model: the generative law of demand; certify.gains = \"replications\" draws from it.\n"
           if spec.demand_model is not None else "")
    )
