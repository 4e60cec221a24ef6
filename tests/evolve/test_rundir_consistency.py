"""Run-directory consistency (issue #8, classes 5 and 6): one process per directory, no
duplicated lines on resume, a killed round's proposals re-used, unwritable directories stop
cleanly and resume."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.trusted import TrustedEvaluator
from evolve.builtin import BuiltinProposer
from evolve.config import EvolveConfig, with_overrides
from evolve.proposer import Proposal, Proposer
from evolve.rundir import RunDir, RunDirBusy
from evolve.run import execute

REPO = Path(__file__).resolve().parents[2]


def _cfg(rounds=2, per_round=2):
    # serial: the tests patch the evaluator of this process (worker processes would not see it)
    return with_overrides(EvolveConfig(), search_rounds=rounds, search_candidates_per_round=per_round,
                          tuning_n_trials=10, sandbox="none", search_workers=1)


def _builtin(cfg, ws, rd):
    return BuiltinProposer(per_round=cfg.search.candidates_per_round)


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def test_second_process_on_a_run_directory_is_refused(workspace_dir, tmp_path):
    out = execute(workspace_dir, _cfg(rounds=1), _builtin, run_dir=tmp_path / "run", progress=False)
    holder = RunDir(out.run_dir)
    holder.lock()
    try:
        with pytest.raises(RunDirBusy, match="another evolve process"):
            execute(None, _cfg(), _builtin, resume=out.run_dir, progress=False)
        cli = subprocess.run([sys.executable, "-m", "cli.evolve_cmd", "--resume", str(out.run_dir), "-q"],
                             capture_output=True, text=True, timeout=120, cwd=REPO)
        assert cli.returncode == 2 and "another evolve process" in cli.stderr
        assert "Traceback" not in cli.stderr
    finally:
        holder.unlock()
    execute(None, _cfg(), _builtin, resume=out.run_dir, progress=False)  # free again once released


def test_resume_does_not_duplicate_history_lines(workspace_dir, tmp_path):
    out = execute(workspace_dir, _cfg(), _builtin, run_dir=tmp_path / "run", progress=False)
    for _ in range(2):
        execute(None, _cfg(), _builtin, resume=out.run_dir, progress=False)
    history = [r["round"] for r in _lines(out.run_dir / "champion_history.jsonl")]
    assert history == [0, 1, 2]
    assert [r["round"] for r in _lines(out.run_dir / "rounds.jsonl")] == [1, 2]
    ids = [r["candidate_id"] for r in _lines(out.run_dir / "candidates.jsonl")]
    assert len(ids) == len(set(ids))


class _Once(Proposer):
    """Proposes two fixed policies in round 1; asked again, it would propose something else."""

    name = "once"

    def __init__(self, sources):
        self.sources, self.calls = sources, 0

    def propose(self, ctx):
        self.calls += 1
        if ctx.round != 1:
            return []
        return [Proposal(src.replace("K", str(k + 10 * (self.calls - 1))), f"p{k}", meta={"k": str(k)})
                for k, src in enumerate(self.sources)]


SRC = "def order(obs, params):\n    return K\n"


class _Killed(Exception):
    pass


def test_a_round_killed_mid_way_resumes_with_the_same_proposals(workspace_dir, tmp_path, monkeypatch):
    real = TrustedEvaluator.evaluate
    count = {"n": 0}

    def dying(self, source, name, cid, params=None, **kw):
        if not cid.startswith("baseline-"):
            count["n"] += 1
            if count["n"] == 2:
                raise _Killed()  # the process dies while the round's second candidate is evaluated
        return real(self, source, name, cid, params, **kw)

    monkeypatch.setattr(TrustedEvaluator, "evaluate", dying)
    proposer = _Once([SRC, SRC])
    with pytest.raises(_Killed):
        execute(workspace_dir, _cfg(rounds=1), lambda c, w, r: proposer, run_dir=tmp_path / "run", progress=False)
    run = tmp_path / "run"
    first = [r for r in _lines(run / "candidates.jsonl") if r["origin"] != "baseline"]
    assert len(first) == 1 and not (run / "rounds.jsonl").exists()
    monkeypatch.setattr(TrustedEvaluator, "evaluate", real)
    again = _Once([SRC, SRC])
    out = execute(None, _cfg(rounds=1), lambda c, w, r: again, resume=run, progress=False)
    assert again.calls == 0, "the proposer was asked again instead of re-using the recorded proposals"
    rows = [r for r in _lines(run / "candidates.jsonl") if r["origin"] != "baseline"]
    assert [r["name"] for r in rows] == ["p0", "p1"] and rows[0] == first[0]
    assert _lines(run / "rounds.jsonl")[0]["candidates"] == [r["candidate_id"] for r in rows]
    assert out.deployed_id


def _unshare_ok() -> bool:
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not shutil.which("unshare") or not _unshare_ok(), reason="needs unshare -m (mount namespace)")
def test_full_then_read_only_run_directory_stop_cleanly_and_resume(workspace_dir, tmp_path):
    run, saved = tmp_path / "run", tmp_path / "saved"
    run.mkdir()
    evolve = f"{sys.executable} -m cli.evolve_cmd"
    args = "--rounds 2 --candidates 2 --trials 10 --sandbox none -q"
    # A 16 KiB file system fills up during the run: a real ENOSPC, then copy what was written.
    full = subprocess.run(["unshare", "-m", "sh", "-c",
                           f"mount -t tmpfs -o size=16k tmpfs {run} && {evolve} --workspace {workspace_dir} "
                           f"--run-dir {run} {args}; rc=$?; cp -a {run} {saved}; exit $rc"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert full.returncode == 2, full.stderr
    assert "cannot write the run directory" in full.stderr and "Traceback" not in full.stderr
    assert not (saved / "deployment.json").exists()
    # The same directory mounted read-only: resume refuses cleanly.
    ro = subprocess.run(["unshare", "-m", "sh", "-c",
                         f"mount --bind {saved} {saved} && mount -o remount,bind,ro {saved} && "
                         f"{evolve} --resume {saved} -q"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert ro.returncode == 2 and "read-only" in ro.stderr and "Traceback" not in ro.stderr
    # Writable again: the resume completes and nothing was evaluated twice.
    done = subprocess.run([*evolve.split(), "--resume", str(saved), "-q"], capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    ids = [r["candidate_id"] for r in _lines(saved / "candidates.jsonl")]
    assert len(ids) == len(set(ids)) and (saved / "deployment.json").exists()


def test_kill_between_a_rounds_line_and_its_champion_line(workspace_dir, tmp_path):
    """Found by benchmarks/resume_kill.py: the champion line of such a round was never written."""
    out = execute(workspace_dir, _cfg(rounds=2), _builtin, run_dir=tmp_path / "ref", progress=False)
    ref = _lines(out.run_dir / "champion_history.jsonl")
    run = tmp_path / "cut"
    shutil.copytree(out.run_dir, run)
    (run / ".lock").unlink(missing_ok=True)
    kept = (run / "champion_history.jsonl").read_text().splitlines()[:2]  # rounds 0 and 1; round 2's line lost
    (run / "champion_history.jsonl").write_text("\n".join(kept) + "\n")
    execute(None, _cfg(rounds=2), _builtin, resume=run, progress=False)
    assert _lines(run / "champion_history.jsonl") == ref
