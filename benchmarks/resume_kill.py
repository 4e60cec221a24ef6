"""kill -9 at random points, then `evolve --resume`: is the run directory the uninterrupted one?

For each mode, one uninterrupted reference run, then ``--trials`` runs of the same seed that
are SIGKILLed (whole process group) at a uniformly random moment of the reference run's
wall time (a run that finishes first is redone with a shorter horizon), resumed (killed
again with probability ``--double``), and finished. Each run
directory is compared with the reference: every candidate record (id, name, round, origin,
status, error, params, tuned and replay costs, calling convention; not wall seconds), the
proposals and rounds, the champion history, the certificates and ``deployment.json``.

Modes:
- ``builtin``: the built-in proposer; kills land in the initial pool, mid-tuning and
  mid-round;
- ``agent``: the LLM agent against a scripted OpenAI-compatible HTTP server whose replies
  are a function of the request (round in the briefing, the episode's seed), in bubblewrap
  shells; kills land mid-episode and mid-round.

Prints a line per trial (where the kill landed, what differed) and the mismatch count
(target 0). Usage::

    nice -n 10 python3 benchmarks/resume_kill.py --trials 20            # builtin + agent
    python3 benchmarks/resume_kill.py --modes builtin --trials 3 --seed 1
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

COMPARED = ("candidates.jsonl", "proposals.jsonl", "rounds.jsonl", "champion_history.jsonl", "certificates.jsonl",
            "deployment.json", "deployed_policy.py")
POLICY = '''import numpy as np

PARAMS = {{"S": (0.0, {high}.0), "r": (0.0, 25.0)}}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r"] + {tilt} * gap)
'''


def build_workspace(root: Path) -> Path:
    """A small real workspace (100 replay + 30 forward days), tuned and sealed."""
    import numpy as np

    from inventory.sequence import Availability, DemandSequence, FeatureKind, FeatureSpec
    from inventory.simulator import InitialState
    from inventory.tuning import TuningConfig
    from inventory.workspace import ProblemSpec, WorkspaceSpec
    from inventory.workspace_write import write_workspace

    rng = np.random.default_rng(11)
    n = 130
    promo = (rng.random(n) < 0.15).astype(float)
    demand = rng.poisson(6 * (1 + 1.5 * promo)).astype(float)
    dates = [str(np.datetime64("2024-01-01") + i) for i in range(n)]
    seq = DemandSequence(dates, demand, {"promo": promo})
    specs = (FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, "planned promotion"),)
    spec = WorkspaceSpec(ProblemSpec("resume_ws", "retail", "widget", 1.0, 9.0, 1, 100, 30), InitialState(12.0, (6.0,)),
                         specs)
    write_workspace(root, spec, seq.slice(0, 100), seq.slice(100, 130), tuning=TuningConfig(n_trials=20))
    return root


def scripted_model(request: dict[str, Any]) -> Any:
    """Replies that depend only on the request: the round in the briefing and the episode's seed."""
    from tests.agent.fake_openai import shell, submit

    msgs = request["messages"]
    turn = sum(1 for m in msgs if m["role"] == "assistant")
    if turn:
        return submit(rationale="scripted")
    brief = msgs[1]["content"]
    round_no = int(brief.split("# Round ", 1)[1].split(" ", 1)[0])
    seed = int(request.get("seed") or 0)
    src = POLICY.format(high=30 + 5 * round_no + seed % 7, tilt=round((seed % 5) / 10, 1))
    return shell(f"cat > final_submit.py <<'EOF'\n{src}EOF")


@dataclass
class Mode:
    name: str
    args: list[str]
    resume_args: list[str]          # what --resume needs besides the run directory (the proposer)


def modes(workspace: Path, sandbox: str, server_url: str | None, tmp: Path, rounds: int = 3) -> dict[str, Mode]:
    base = ["--workspace", str(workspace), "--rounds", str(rounds), "--candidates", "2", "--trials", "20",
            "--sandbox", sandbox, "--seed", "5", "-q"]
    out = {"builtin": Mode("builtin", base, [])}
    if server_url is not None:
        toml = tmp / "agent.toml"
        toml.write_text("[agent]\nbudget = 4\ntimeout = 20.0\nretries = 2\nbackoff = 0.05\nconcurrency = 2\n")
        agent = ["--llm", "openai:scripted", "--base-url", server_url, "--agent-config", str(toml)]
        out["agent"] = Mode("agent", base + agent, agent)
    return out


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _command(mode: Mode, run_dir: Path) -> list[str]:
    if (run_dir / "run.json").exists():
        return ["--resume", str(run_dir), *mode.resume_args, "-q"]
    return [*mode.args, "--run-dir", str(run_dir)]


def run_to_end(mode: Mode, run_dir: Path, timeout: float = 600) -> float:
    t0 = time.monotonic()
    cmd = _command(mode, run_dir)
    done = subprocess.run([sys.executable, "-m", "cli.evolve_cmd", *cmd], capture_output=True, text=True,
                          timeout=timeout, env=_env(), cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"evolve {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.monotonic() - t0


def run_and_kill(mode: Mode, run_dir: Path, after: float) -> bool:
    """Start (or resume) a run and SIGKILL its process group after ``after`` seconds; True if it was killed."""
    cmd = _command(mode, run_dir)
    proc = subprocess.Popen([sys.executable, "-m", "cli.evolve_cmd", *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env=_env(), cwd=REPO)
    try:
        proc.wait(after)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def _lines(path: Path) -> list[Any]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def snapshot(run_dir: Path) -> dict[str, Any]:
    snap: dict[str, Any] = {}
    for name in COMPARED:
        path = run_dir / name
        if name.endswith(".jsonl"):
            rows = _lines(path)
            if name == "candidates.jsonl":
                rows = [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
            snap[name] = rows
        else:
            text = path.read_text(encoding="utf-8") if path.exists() else None
            # deployed_policy.py names its own run directory in its header; that is not a difference
            snap[name] = None if text is None else text.replace(str(run_dir), "<run_dir>")
    return snap


def where(run_dir: Path) -> str:
    """Where a kill landed, from what the run directory holds."""
    if not (run_dir / "run.json").exists():
        return "before the run directory existed"
    cands = _lines(run_dir / "candidates.jsonl")
    props = {r["round"] for r in _lines(run_dir / "proposals.jsonl")}
    rounds = {r["round"] for r in _lines(run_dir / "rounds.jsonl")}
    open_rounds = sorted(props - rounds)
    if (run_dir / "deployment.json").exists():
        return "after deployment.json"
    if open_rounds:
        done = sum(1 for c in cands if c["round"] == open_rounds[0])
        return f"mid-round {open_rounds[0]}, tuning/replaying its candidate {done + 1}"
    if len(cands) < 5:
        return f"initial pool ({len(cands)}/5 baselines)"
    import tomllib
    total = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))["search"]["rounds"]
    last = max(rounds, default=0)
    if last >= total:
        return "after the last round (forward replays, report)"
    return f"after round {last}, while round {last + 1} was proposed"


def diff(ref: dict[str, Any], got: dict[str, Any]) -> list[str]:
    out = []
    for name in COMPARED:
        if ref[name] != got[name]:
            if isinstance(ref[name], list) and isinstance(got[name], list):
                n = sum(1 for a, b in zip(ref[name], got[name]) if a != b) + abs(len(ref[name]) - len(got[name]))
                out.append(f"{name}: {n} of {len(ref[name])} lines differ")
            else:
                out.append(f"{name} differs")
    return out


def run_trials(mode: Mode, trials: int, tmp: Path, rng: random.Random, double: float = 0.3,
               log: Any = print) -> int:
    """Reference run + ``trials`` killed-and-resumed runs; returns the number of mismatching trials."""
    ref_dir = tmp / f"{mode.name}-reference"
    seconds = run_to_end(mode, ref_dir)
    ref = snapshot(ref_dir)
    log(f"[{mode.name}] reference run: {seconds:.1f} s, {len(ref['candidates.jsonl'])} candidate records")
    mismatches = 0
    for k in range(trials):
        kills, landed, horizon = 0, [], seconds
        for attempt in range(4):  # a run that finished before its kill time is redone, killed earlier
            run_dir = tmp / f"{mode.name}-trial{k:02d}-{attempt}"
            started = time.monotonic()
            at = rng.uniform(0.3, horizon)
            while run_and_kill(mode, run_dir, at):
                kills += 1
                landed.append(where(run_dir))
                if rng.random() >= double:
                    break
                at = rng.uniform(0.3, horizon)
            if kills:
                break
            horizon = 0.8 * (time.monotonic() - started)
        run_to_end(mode, run_dir)
        problems = diff(ref, snapshot(run_dir))
        mismatches += bool(problems)
        log(f"[{mode.name}] trial {k:2d}: {kills} kill(s) at {'; '.join(landed) or 'none (finished first)'} -> "
            f"{'MISMATCH: ' + ', '.join(problems) if problems else 'identical'}")
    return mismatches


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20, help="killed runs per mode")
    ap.add_argument("--modes", default="builtin,agent")
    ap.add_argument("--sandbox", default="none", help="evaluator sandbox (agent shells always use auto)")
    ap.add_argument("--seed", type=int, default=0, help="seeds the kill times")
    ap.add_argument("--double", type=float, default=0.3, help="probability of killing the resumed run again")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    total = trials = 0
    with tempfile.TemporaryDirectory(prefix="resume-kill-") as tmp_name:
        tmp = Path(tmp_name)
        ws = build_workspace(tmp / "ws")
        server = None
        wanted = args.modes.split(",")
        if "agent" in wanted:
            from tests.agent.fake_openai import FakeOpenAIServer

            server = FakeOpenAIServer([scripted_model] * 100_000, content_ids=True).start()
        try:
            for name, mode in modes(ws, args.sandbox, server.base_url if server else None, tmp).items():
                if name in wanted:
                    total += run_trials(mode, args.trials, tmp, rng, args.double)
                    trials += args.trials
        finally:
            if server is not None:
                server.stop()
    print(f"\nmismatches: {total} of {trials} killed-and-resumed runs (target 0)")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
