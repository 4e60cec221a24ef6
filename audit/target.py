"""What is audited: a run's candidate (deployed by default) or a policy file on a workspace.

A target carries everything the audit needs and nothing it should not trust: source text,
tuned parameters (none yet for a policy file: the audit tunes it), the recorded trusted
daily costs to reproduce, the run's certificates for it, and the reference it is judged
against.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from audit.records import RunDirError, RunView
from evolve.rundir import file_digest
from inventory.library import BASELINES, policy_source
from inventory.workspace import MANIFEST_FILE, Workspace, load_workspace

log = logging.getLogger(__name__)


class TargetMode(str, Enum):
    RUN = "run"      # a candidate of an evolve run directory
    FILE = "file"    # a policy file on a workspace (tuned by the audit)


@dataclass(frozen=True)
class Reference:
    candidate_id: str
    name: str
    source: str
    params: dict[str, float]
    trusted: bool          # byte-identical to the packaged library baseline: may run in-process


@dataclass
class AuditTarget:
    mode: TargetMode
    workspace: Workspace
    candidate_id: str
    name: str
    source: str
    params: dict[str, float] | None
    reference: Reference
    out_dir: Path
    status: str = "ok"
    error: str | None = None
    vectorised: bool | None = None
    recorded_costs: list[float] | None = None
    round: int | None = None
    origin: str = ""
    certificates: list[dict[str, Any]] = field(default_factory=list)
    deployed: bool = False
    run_root: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_reference(self) -> bool:
        return self.candidate_id == self.reference.candidate_id

    def safety_certificate(self) -> dict[str, Any] | None:
        """The last certificate of this candidate against the reference (safety role)."""
        mine = [c for c in self.certificates if c.get("comparator_id") == self.reference.candidate_id
                and isinstance(c.get("safety_pass"), bool)]
        return mine[-1] if mine else None


def _reference(ws: Workspace, candidate_id: str, name: str, source: str, params: dict[str, float]) -> Reference:
    trusted = name in BASELINES and source == policy_source(name)
    return Reference(candidate_id, name, source, params, trusted)


def from_run(run_dir: Path, candidate: str | None, out: Path | None) -> AuditTarget:
    view = RunView(run_dir)
    ws = load_workspace(view.workspace)
    notes = []
    digest = view.manifest_digest
    if digest is not None and file_digest(ws.root / MANIFEST_FILE) != digest:
        notes.append(f"{ws.root}: the workspace changed since the run (manifest digest differs); replays may not "
                     "reproduce the run's records")
    dep = view.deployment()
    if candidate is None:
        if dep is None:
            raise RunDirError(f"{view.root}/deployment.json: missing (unfinished run); name a candidate with --candidate ID")
        candidate = dep.deployed_id
    records = view.candidates()
    if candidate not in records:
        known = ", ".join(sorted(records)[:8])
        raise RunDirError(f"{view.root}/candidates.jsonl: no candidate '{candidate}' (known: {known}"
                          f"{', ...' if len(records) > 8 else ''})")
    rec = records[candidate]
    ref_id = view.reference_id()
    if ref_id not in records:
        raise RunDirError(f"{view.root}/candidates.jsonl: the reference '{ref_id}' has no record")
    ref_rec = records[ref_id]
    reference = _reference(ws, ref_id, ref_rec.name, view.candidate_source(ref_id), ref_rec.params)
    certs = [c for c in view.certificates() if c.get("candidate_id") == candidate]
    if dep is not None and dep.deployed_id == candidate and dep.certificate and dep.certificate not in certs:
        certs.append(dep.certificate)
    return AuditTarget(
        mode=TargetMode.RUN, workspace=ws, candidate_id=candidate, name=rec.name, source=view.candidate_source(candidate),
        params=dict(rec.params), reference=reference, out_dir=out or view.root / "audit" / candidate,
        status=rec.status, error=rec.error, vectorised=rec.vectorised, recorded_costs=list(rec.replay_costs),
        round=rec.round, origin=rec.origin, certificates=certs,
        deployed=dep is not None and dep.deployed_id == candidate, run_root=view.root, notes=notes)


def from_file(workspace: Path, policy: Path, out: Path | None) -> AuditTarget:
    ws = load_workspace(workspace)
    try:
        source = Path(policy).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{policy}: policy file not found") from None
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{policy}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    best = min(ws.baselines.values(), key=lambda b: (b.replay_cost, b.name))
    reference = _reference(ws, f"baseline-{best.name}", best.name, ws.baseline_source(best.name), best.params)
    stem = Path(policy).stem
    return AuditTarget(mode=TargetMode.FILE, workspace=ws, candidate_id=stem, name=stem, source=source, params=None,
                       reference=reference, out_dir=out or Path(f"{stem}-audit"))
