"""Workspace format (SPEC §2): the folder an agent reads, plus a hidden forward window.

Layout::

    workspace.toml                  machine-readable problem: costs, lead time, features
    problem_description.md          the same for a reader, with the policy contract
    data/historical_sequence.json   replay window: dates, demand, features
    evaluation.py                   lets the agent score a policy on the replay window
    baseline_policies/*.py          the five baselines, with tuned.json (pre-tuned params)
    hidden/forward_window.json      test window: read by the trusted evaluator only
    hidden/...                      audit data (never copied into a sandbox)
    hidden/manifest.json            sha256 of every hidden file (the trusted manifest)
    manifest.json                   sha256 of every agent-visible file, written last

Everything except ``hidden/`` is agent-visible (:func:`agent_visible_files`). The agent-visible
``manifest.json`` holds no digest of a hidden file (a digest of the test window is a test
oracle: with a small support it can be brute-forced); those sit in ``hidden/manifest.json``,
checked on load as well. A workspace holds regular files and folders only: a symlink (say
``data/x.json -> ../hidden/forward_window.json`` added after sealing) or a special file is
refused by validation and by :func:`agent_visible_files`, so it is never copied into a shell.
Loading validates every field and both manifests, so a malformed, corrupted or partially
written workspace fails with the file and field named.

This module parses and loads; the file names live in :mod:`inventory.workspace_layout`,
the manifests in :mod:`inventory.workspace_manifest`, writing in
:mod:`inventory.workspace_write` (re-exported names keep ``inventory.workspace`` the one
import for readers).
"""
from __future__ import annotations

import json
import logging
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from inventory.demand_model import DemandModel, DemandModelError, Law, parse_demand_model
from inventory.library import BASELINES
from inventory.replay import ReplayProblem
from inventory.sequence import Availability, CostModel, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState
from inventory.workspace_layout import (BASELINE_DIR, DESCRIPTION_FILE, EVALUATION_FILE, FORMAT_VERSION,  # noqa: F401
                                        FORWARD_FILE, HIDDEN_DIR, HIDDEN_MANIFEST_FILE, MANIFEST_FILE, REPLAY_FILE,
                                        SPEC_FILE, TUNED_FILE, WorkspaceError)
from inventory.workspace_manifest import (_regular_files, _sha256, agent_visible_files,  # noqa: F401
                                          manifest_digest, verify_manifest)

log = logging.getLogger(__name__)

__all__ = ["ProblemSpec", "WorkspaceSpec", "BaselineRecord", "Workspace", "WorkspaceError", "load_workspace", "seal",
           "agent_visible_files", "manifest_digest", "verify_manifest"]


@dataclass(frozen=True)
class ProblemSpec:
    name: str
    domain: str
    item: str
    h: float
    p: float
    lead_time: int
    replay_days: int
    forward_days: int
    unit: str = "count"
    context: str = ""


@dataclass(frozen=True)
class WorkspaceSpec:
    problem: ProblemSpec
    initial: InitialState
    features: tuple[FeatureSpec, ...]
    demand_model: DemandModel | None = None   # optional generative model (inventory.demand_model)

    @property
    def model(self) -> CostModel:
        return CostModel(self.problem.h, self.problem.p, self.problem.lead_time, self.problem.unit == "count")


@dataclass(frozen=True)
class BaselineRecord:
    name: str
    params: dict[str, float]
    replay_cost: float
    n_trials: int
    seed: int


@dataclass
class Workspace:
    root: Path
    spec: WorkspaceSpec
    replay: DemandSequence
    baselines: dict[str, BaselineRecord] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.problem.name

    def replay_problem(self) -> ReplayProblem:
        return ReplayProblem(self.replay, self.spec.features, self.spec.model, self.spec.initial)

    def baseline_source(self, name: str) -> str:
        return (self.root / BASELINE_DIR / f"{name}.py").read_text(encoding="utf-8")

    @property
    def has_forward(self) -> bool:
        return (self.root / FORWARD_FILE).exists()

    def load_forward(self) -> DemandSequence:
        """The test window. Trusted evaluator only: never pass it into a sandbox."""
        path = self.root / FORWARD_FILE
        seq = _read_sequence(path, self.spec.features)
        if len(seq) != self.spec.problem.forward_days:
            raise WorkspaceError(path, "demand", f"has {len(seq)} days, workspace.toml says forward_days = {self.spec.problem.forward_days}")
        return seq


# ---------------------------------------------------------------- reading


def _need(table: Mapping[str, Any], key: str, typ: type | tuple[type, ...], path: Path, prefix: str) -> Any:
    name = f"{prefix}{key}"
    if key not in table:
        raise WorkspaceError(path, name, "is missing")
    value = table[key]
    if isinstance(value, bool) and typ is not bool and bool not in (typ if isinstance(typ, tuple) else (typ,)):
        raise WorkspaceError(path, name, f"must be {_tname(typ)}, got a boolean")
    if not isinstance(value, typ):
        raise WorkspaceError(path, name, f"must be {_tname(typ)}, got {type(value).__name__} {value!r}")
    return value


# Every key workspace.toml may hold, per table: an unknown key (a typo such as ``on_hnd``)
# is refused instead of silently leaving the field at its default.
_SPEC_KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"format_version", "problem", "initial_state", "features", "demand_model"}),
    "problem.": frozenset({"name", "domain", "item", "unit", "h", "p", "lead_time", "replay_days", "forward_days",
                           "context"}),
    "initial_state.": frozenset({"on_hand", "pipeline"}),
    "feature": frozenset({"kind", "availability", "horizon", "description"}),
}


def _refuse_unknown(table: Mapping[str, Any], allowed: frozenset[str], path: Path, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise WorkspaceError(path, f"{prefix}{key}", f"is not a known field (known: {', '.join(sorted(allowed))})")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WorkspaceError(path, None, f"is not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def _tname(typ: type | tuple[type, ...]) -> str:
    types = typ if isinstance(typ, tuple) else (typ,)
    return " or ".join(t.__name__ for t in types)


def _read_spec(root: Path) -> WorkspaceSpec:
    path = root / SPEC_FILE
    if not path.exists():
        raise WorkspaceError(path, None, "missing; is this a workspace folder?")
    try:
        raw = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(path, None, f"is not valid TOML: {exc}") from exc
    _refuse_unknown(raw, _SPEC_KEYS[""], path, "")
    version = _need(raw, "format_version", int, path, "")
    if version != FORMAT_VERSION:
        raise WorkspaceError(path, "format_version", f"is {version}, this version of invevolve reads {FORMAT_VERSION}")
    prob = _need(raw, "problem", dict, path, "")
    _refuse_unknown(prob, _SPEC_KEYS["problem."], path, "problem.")
    num = (int, float)
    h = float(_need(prob, "h", num, path, "problem."))
    p = float(_need(prob, "p", num, path, "problem."))
    lead = _need(prob, "lead_time", int, path, "problem.")
    if not (math.isfinite(h) and h >= 0):
        raise WorkspaceError(path, "problem.h", f"must be finite and >= 0, got {h}")
    if not (math.isfinite(p) and p > 0):
        raise WorkspaceError(path, "problem.p", f"must be finite and > 0, got {p}")
    if lead < 0:
        raise WorkspaceError(path, "problem.lead_time", f"must be >= 0, got {lead}")
    unit = prob.get("unit", "count")
    if unit not in ("count", "continuous"):
        raise WorkspaceError(path, "problem.unit", f"must be 'count' or 'continuous', got {unit!r}")
    replay_days = _need(prob, "replay_days", int, path, "problem.")
    forward_days = _need(prob, "forward_days", int, path, "problem.")
    if replay_days < 2:
        raise WorkspaceError(path, "problem.replay_days", f"must be >= 2, got {replay_days}")
    if forward_days < 0:
        raise WorkspaceError(path, "problem.forward_days", f"must be >= 0, got {forward_days}")
    problem = ProblemSpec(
        name=_need(prob, "name", str, path, "problem."), domain=_need(prob, "domain", str, path, "problem."),
        item=_need(prob, "item", str, path, "problem."), h=h, p=p, lead_time=lead,
        replay_days=replay_days, forward_days=forward_days, unit=unit, context=str(prob.get("context", "")),
    )
    init_raw = raw.get("initial_state", {})
    if not isinstance(init_raw, dict):
        raise WorkspaceError(path, "initial_state", "must be a table")
    _refuse_unknown(init_raw, _SPEC_KEYS["initial_state."], path, "initial_state.")
    on_hand = init_raw.get("on_hand", 0.0)
    pipeline = init_raw.get("pipeline", [])
    if isinstance(on_hand, bool) or not isinstance(on_hand, (int, float)) or on_hand < 0:
        raise WorkspaceError(path, "initial_state.on_hand", f"must be a number >= 0, got {on_hand!r}")
    if not isinstance(pipeline, list) or any(isinstance(x, bool) or not isinstance(x, (int, float)) or x < 0 for x in pipeline):
        raise WorkspaceError(path, "initial_state.pipeline", "must be a list of numbers >= 0")
    if len(pipeline) > lead:
        raise WorkspaceError(path, "initial_state.pipeline", f"has {len(pipeline)} entries but lead_time is {lead}")
    feats_raw = raw.get("features", {})
    if not isinstance(feats_raw, dict):
        raise WorkspaceError(path, "features", "must be a table of feature tables")
    feats = []
    for name, f in feats_raw.items():
        pre = f"features.{name}."
        if not isinstance(f, dict):
            raise WorkspaceError(path, f"features.{name}", "must be a table")
        _refuse_unknown(f, _SPEC_KEYS["feature"], path, pre)
        kind = _need(f, "kind", str, path, pre)
        avail = _need(f, "availability", str, path, pre)
        try:
            kind_e = FeatureKind(kind)
        except ValueError:
            raise WorkspaceError(path, pre + "kind", f"must be one of {[k.value for k in FeatureKind]}, got {kind!r}") from None
        try:
            avail_e = Availability(avail)
        except ValueError:
            raise WorkspaceError(path, pre + "availability", f"must be one of {[a.value for a in Availability]}, got {avail!r}") from None
        horizon = f.get("horizon", 0)
        if isinstance(horizon, bool) or not isinstance(horizon, int):
            raise WorkspaceError(path, pre + "horizon", f"must be an integer, got {horizon!r}")
        try:
            feats.append(FeatureSpec(name, kind_e, avail_e, horizon, str(f.get("description", ""))))
        except ValueError as exc:
            raise WorkspaceError(path, f"features.{name}", str(exc)) from exc
    model = None
    if "demand_model" in raw:
        try:
            model = parse_demand_model(raw["demand_model"])
        except DemandModelError as exc:
            raise WorkspaceError(path, exc.field, exc.message) from None
    return WorkspaceSpec(problem, InitialState(float(on_hand), tuple(float(x) for x in pipeline)), tuple(feats), model)


def _read_sequence(path: Path, specs: tuple[FeatureSpec, ...]) -> DemandSequence:
    if not path.exists():
        raise WorkspaceError(path, None, "missing")
    try:
        raw = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise WorkspaceError(path, None, f"is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise WorkspaceError(path, None, "must hold a JSON object with dates, demand and features")
    dates = _need(raw, "dates", list, path, "")
    demand = _need(raw, "demand", list, path, "")
    feats = raw.get("features", {})
    if not isinstance(feats, dict):
        raise WorkspaceError(path, "features", "must be an object of name -> list")
    if len(dates) != len(demand):
        raise WorkspaceError(path, "dates", f"has {len(dates)} entries but demand has {len(demand)}")
    for i, d in enumerate(demand):
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) or d < 0:
            raise WorkspaceError(path, f"demand[{i}]", f"must be a finite number >= 0, got {d!r}")
    declared = {s.name: s for s in specs}
    for name in feats:
        if name not in declared:
            raise WorkspaceError(path, f"features.{name}", f"is not declared in {SPEC_FILE}")
    arrays = {}
    for name, spec in declared.items():
        if name not in feats:
            raise WorkspaceError(path, f"features.{name}", f"is declared in {SPEC_FILE} but missing here")
        values = feats[name]
        if not isinstance(values, list) or len(values) != len(demand):
            raise WorkspaceError(path, f"features.{name}", f"must be a list of {len(demand)} values")
        strings = spec.is_text or (spec.kind is FeatureKind.CATEGORICAL and any(isinstance(v, str) for v in values))
        if strings:
            if any(not isinstance(v, str) for v in values):
                raise WorkspaceError(path, f"features.{name}", f"must hold only strings (kind is {spec.kind.value})")
            arrays[name] = np.array(values, dtype=object)
        else:
            for i, v in enumerate(values):
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    raise WorkspaceError(path, f"features.{name}[{i}]", f"must be a finite number, got {v!r}")
            arrays[name] = np.array(values, dtype=float)
    return DemandSequence([str(d) for d in dates], np.array(demand, dtype=float), arrays)


def _read_baselines(root: Path) -> dict[str, BaselineRecord]:
    path = root / TUNED_FILE
    if not path.exists():
        raise WorkspaceError(path, None, "missing: baselines were never tuned for this workspace")
    try:
        raw = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise WorkspaceError(path, None, f"is not valid JSON: {exc}") from exc
    out = {}
    for name in BASELINES:
        if name not in raw or not isinstance(raw[name], dict):
            raise WorkspaceError(path, name, "missing tuned record")
        rec = raw[name]
        try:
            out[name] = BaselineRecord(name, {k: float(v) for k, v in rec["params"].items()},
                                       float(rec["replay_cost"]), int(rec["n_trials"]), int(rec["seed"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WorkspaceError(path, name, f"malformed record ({exc})") from exc
        if not (root / BASELINE_DIR / f"{name}.py").exists():
            raise WorkspaceError(root / BASELINE_DIR / f"{name}.py", None, "missing baseline policy file")
    return out


def seal(root: Path) -> None:
    """Validate the workspace, then write ``hidden/manifest.json`` over the hidden files and
    ``manifest.json`` over the rest.

    Validation comes first, so a failed seal leaves the old manifests in place and never
    blesses a bad file (:class:`WorkspaceError` names it). Refuses a workspace holding a
    symlink or a special file.
    """
    root = Path(root)
    _validate_unsealed(root)
    everything = [p for p in _regular_files(root) if str(p) not in (MANIFEST_FILE, HIDDEN_MANIFEST_FILE)]
    hidden = {str(p): _sha256(root / p) for p in everything if p.parts[0] == HIDDEN_DIR}
    visible = {str(p): _sha256(root / p) for p in everything if p.parts[0] != HIDDEN_DIR}
    if hidden:
        (root / HIDDEN_MANIFEST_FILE).write_text(json.dumps({"files": hidden}, indent=1, sort_keys=True) + "\n",
                                                 encoding="utf-8")
    elif (root / HIDDEN_MANIFEST_FILE).exists():
        (root / HIDDEN_MANIFEST_FILE).unlink()
    (root / MANIFEST_FILE).write_text(json.dumps({"files": visible}, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _validate_unsealed(root: Path) -> None:
    """Every check of :func:`load_workspace` except the manifest, plus the forward window."""
    ws = _load(root, verify=False)
    if ws.has_forward or ws.spec.problem.forward_days:
        ws.load_forward()


def load_workspace(path: str | Path) -> Workspace:
    """Load and validate a workspace; raises :class:`WorkspaceError` naming file and field."""
    return _load(Path(path), verify=True)


def _load(path: str | Path, *, verify: bool) -> Workspace:
    root = Path(path)
    if not root.is_dir():
        raise WorkspaceError(root, None, "is not a directory")
    spec = _read_spec(root)
    if verify:
        verify_manifest(root)
    replay = _read_sequence(root / REPLAY_FILE, spec.features)
    if len(replay) != spec.problem.replay_days:
        raise WorkspaceError(root / REPLAY_FILE, "demand", f"has {len(replay)} days, {SPEC_FILE} says replay_days = {spec.problem.replay_days}")
    for rel in (DESCRIPTION_FILE, EVALUATION_FILE):
        if not (root / rel).exists():
            raise WorkspaceError(root / rel, None, "missing")
    if spec.demand_model is not None and spec.demand_model.law is Law.PYTHON \
            and not (root / str(spec.demand_model.param("file"))).is_file():
        raise WorkspaceError(root / SPEC_FILE, "demand_model.file", f"names {spec.demand_model.param('file')!r}, "
                             "which is not a file of the workspace")
    return Workspace(root, spec, replay, _read_baselines(root))


