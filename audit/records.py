"""Small typed readers of a run directory, tolerant of format additions.

The audit reads what ``evolve`` wrote (``docs/run-directory.md``). Other parts of the
project add fields to these files over time, so each reader takes the fields it needs,
keeps anything else under ``extra`` (shown in the report, never interpreted), and names the
file and field when something it needs is missing or of the wrong type.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from evolve.config import ConfigError

log = logging.getLogger(__name__)


class RunDirError(ConfigError):
    """A run directory file is missing or malformed; the message names the file and field."""


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        return
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s line %d is torn (interrupted write); ignoring it", path, i)
            continue
        if isinstance(raw, dict):
            yield i, raw


def _get(raw: Mapping[str, Any], key: str, typ: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if key not in raw or raw[key] is None:
        if default is ...:
            raise RunDirError(f"{where}: field '{key}' is missing")
        return default
    value = raw[key]
    types = typ if isinstance(typ, tuple) else (typ,)
    if isinstance(value, bool) and bool not in types:
        raise RunDirError(f"{where}: field '{key}' must be {types[0].__name__}, got a boolean")
    if not isinstance(value, types):
        raise RunDirError(f"{where}: field '{key}' must be {types[0].__name__}, got {value!r}"[:300])
    return value


@dataclass(frozen=True)
class CandidateRecord:
    """One line of ``candidates.jsonl``: the trusted record of a candidate."""

    candidate_id: str
    name: str
    status: str
    source_hash: str
    params: dict[str, float]
    replay_cost: float | None
    replay_costs: tuple[float, ...]
    tuned_cost: float | None
    error: str | None
    round: int
    origin: str
    vectorised: bool | None
    extra: dict[str, Any] = field(default_factory=dict)

    KNOWN = ("candidate_id", "name", "status", "source_hash", "params", "replay_cost", "replay_costs",
             "tuned_cost", "error", "round", "origin", "vectorised", "seconds")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str) -> "CandidateRecord":
        num = (int, float)
        params = _get(raw, "params", dict, where, {})
        costs = _get(raw, "replay_costs", list, where, [])
        vec = raw.get("vectorised")
        return cls(
            candidate_id=_get(raw, "candidate_id", str, where),
            name=str(raw.get("name", "")),
            status=str(raw.get("status", "ok")),
            source_hash=str(raw.get("source_hash", "")),
            params={str(k): float(v) for k, v in params.items() if isinstance(v, num) and not isinstance(v, bool)},
            replay_cost=None if raw.get("replay_cost") is None else float(_get(raw, "replay_cost", num, where)),
            replay_costs=tuple(float(c) for c in costs if isinstance(c, num)),
            tuned_cost=None if raw.get("tuned_cost") is None else float(_get(raw, "tuned_cost", num, where)),
            error=None if raw.get("error") is None else str(raw["error"]),
            round=int(_get(raw, "round", int, where, 0)),
            origin=str(raw.get("origin", "")),
            vectorised=vec if isinstance(vec, bool) else None,
            extra={k: v for k, v in raw.items() if k not in cls.KNOWN},
        )


@dataclass(frozen=True)
class DeploymentRecord:
    deployed_id: str
    reference_id: str
    champion_id: str
    reason: str
    certificate: dict[str, Any] | None
    forward: dict[str, Any] | None


class RunView:
    """Read-only view of one run directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        meta = self.root / "run.json"
        if not meta.exists():
            raise RunDirError(f"{meta}: not a run directory (run.json missing)")
        try:
            self.meta: dict[str, Any] = json.loads(meta.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunDirError(f"{meta}: not valid JSON ({exc})") from exc
        if not isinstance(self.meta, dict):
            raise RunDirError(f"{meta}: must hold a JSON object")

    @property
    def workspace(self) -> Path:
        return Path(_get(self.meta, "workspace", str, str(self.root / "run.json")))

    @property
    def manifest_digest(self) -> str | None:
        value = self.meta.get("workspace_manifest_sha256")
        return value if isinstance(value, str) else None

    def candidates(self) -> dict[str, CandidateRecord]:
        path = self.root / "candidates.jsonl"
        out = {}
        for line, raw in _jsonl(path):
            rec = CandidateRecord.parse(raw, f"{path} line {line}")
            out[rec.candidate_id] = rec
        return out

    def candidate_source(self, candidate_id: str) -> str:
        path = self.root / "candidates" / f"{candidate_id}.py"
        if "/" in candidate_id or candidate_id.startswith(".") or not path.exists():
            raise RunDirError(f"{path}: no such candidate source in {self.root}")
        return path.read_text(encoding="utf-8")

    def certificates(self) -> list[dict[str, Any]]:
        return [raw for _, raw in _jsonl(self.root / "certificates.jsonl")]

    def deployment(self) -> DeploymentRecord | None:
        path = self.root / "deployment.json"
        if not path.exists():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunDirError(f"{path}: not valid JSON ({exc})") from exc
        where = str(path)
        cert = raw.get("certificate")
        fwd = raw.get("forward")
        return DeploymentRecord(
            deployed_id=_get(raw, "deployed_id", str, where), reference_id=_get(raw, "reference_id", str, where),
            champion_id=str(raw.get("champion_id", "")), reason=str(raw.get("reason", "")),
            certificate=cert if isinstance(cert, dict) else None, forward=fwd if isinstance(fwd, dict) else None)

    def reference_id(self) -> str:
        """The run's reference: from deployment.json, else the first champion_history line."""
        dep = self.deployment()
        if dep is not None:
            return dep.reference_id
        for _, raw in _jsonl(self.root / "champion_history.jsonl"):
            if isinstance(raw.get("reference"), str):
                return raw["reference"]
        raise RunDirError(f"{self.root}: neither deployment.json nor champion_history.jsonl names the reference")
