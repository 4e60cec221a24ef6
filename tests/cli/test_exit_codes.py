"""A new user's path (issue #11): every failure is one line on stderr with a documented exit code.

Each test runs the real command in a subprocess and asserts the exit code, the single
`PROG: error: ...` line and the absence of a traceback; where a run directory could be
left half-made, it asserts that none was.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from tests.cli._run import evolve, invevolve, undocumented_files

FAST = ["--rounds", "1", "--candidates", "1", "--trials", "5", "--sandbox", "none", "-q"]


# ---------------------------------------------------------------- item 3: flags that used to raise


BAD_FLAGS = [
    (["--delta", "2"], "--delta (field 'certify.delta') must lie strictly between 0 and 1"),
    (["--trials", "-1"], "--trials (field 'tuning.n_trials') must be >= 1, got -1"),
    (["--trials", "0"], "--trials (field 'tuning.n_trials') must be >= 1, got 0"),
    (["--eps", "-1"], "--eps (field 'certify.eps') must be >= 0"),
    (["--rounds", "-2"], "--rounds (field 'search.rounds') must be >= 0"),
    (["--llm", "gpt4"], "--llm 'gpt4': expected openai:MODEL"),
    (["--llm", "bogus:x"], "--llm 'bogus:x': expected openai:MODEL"),
    (["--llm", "hf:smollm2", "--budget", "0"], "budget must be an integer >= 1"),
    (["--address", "auto"], "--address is for --executor ray"),
]


def test_bad_flag_in_a_real_process_exits_2_with_one_line_and_no_run_directory(workspace_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(run_dir), "--delta", "2", "-q")
    assert done.rc == 2
    assert BAD_FLAGS[0][1] in done.one_error("evolve")
    assert not run_dir.exists()


@pytest.mark.parametrize("flags,needle", BAD_FLAGS[1:])
def test_bad_flags_exit_2_with_one_line_and_no_run_directory(workspace_dir, tmp_path, capsys, flags, needle):
    from cli.evolve_cmd import main

    run_dir = tmp_path / "run"
    assert main(["--workspace", str(workspace_dir), "--run-dir", str(run_dir), *flags, "-q"]) == 2
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.startswith("evolve: error:")]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
    assert not run_dir.exists()


def test_bad_config_file_value_names_file_and_field(workspace_dir, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[certify]\ndelta = 2.0\n")
    done = evolve("--workspace", str(workspace_dir), "--config", str(cfg), "--run-dir", str(tmp_path / "r"), "-q")
    assert done.rc == 2
    assert f"{cfg}: field 'certify.delta' must lie strictly between 0 and 1" in done.one_error("evolve")


@pytest.mark.slow
def test_degraded_with_a_readable_hidden_folder_exits_3_naming_it(workspace_dir, tmp_path):
    import tempfile

    from sandbox import SandboxUnavailable, select_backend
    try:
        select_backend("degraded")
    except SandboxUnavailable as exc:
        pytest.skip(f"degraded backend unavailable: {exc}")

    # pytest's tmp_path is private (0700), which hides hidden/ from the sandbox uid anyway
    public = Path(tempfile.mkdtemp(prefix="invevolve-public-"))
    try:
        public.chmod(0o755)
        ws = public / "ws"
        shutil.copytree(workspace_dir, ws)
        for path in [ws / "hidden", *(ws / "hidden").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        done = evolve("--workspace", str(ws), "--run-dir", str(tmp_path / "run"), "--sandbox", "degraded", "-q")
    finally:
        shutil.rmtree(public)
    assert done.rc == 3, done.stderr
    line = done.one_error("evolve")
    assert "degraded backend refused" in line and str(ws / "hidden") in line and "internal error" not in line


def test_docker_without_an_engine_exits_3_and_writes_nothing(workspace_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(run_dir), "--sandbox", "docker", "-q",
                  DOCKER_HOST=f"unix://{tmp_path}/no-such.sock")
    assert done.rc == 3
    assert "docker" in done.one_error("evolve")
    assert not run_dir.exists()


def test_help_documents_the_exit_codes():
    for done in (evolve("--help"), invevolve("--help")):
        assert done.rc == 0
        assert "exit codes:" in done.stdout and "3    unavailable" in done.stdout and "130  interrupted" in done.stdout


# ---------------------------------------------------------------- item 2: a proposer that cannot run


def test_openai_without_a_key_exits_3_before_any_work(workspace_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(run_dir), "--llm", "openai:gpt-4o-mini", "-q")
    assert done.rc == 3
    assert "no API key" in done.one_error("evolve") and "OPENAI_API_KEY" in done.stderr
    assert not run_dir.exists()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_without_vllm_exits_3(workspace_dir, tmp_path):
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(tmp_path / "run"), "--llm", "vllm:/models/x", "-q")
    assert done.rc == 3
    assert "needs the vllm package" in done.one_error("evolve")
    assert not (tmp_path / "run").exists()


def test_dead_endpoint_finishes_the_run_exits_3_and_says_so_first(workspace_dir, tmp_path):
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text("[agent]\nretries = 0\ntimeout = 2.0\n")
    run_dir = tmp_path / "run"
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(run_dir), "--llm", "openai:m",
                  "--base-url", "http://127.0.0.1:9/v1", "--agent-config", str(agent_toml), *FAST)
    assert done.rc == 3
    assert "PROPOSER UNAVAILABLE" in done.one_error("evolve")
    report = (run_dir / "report.txt").read_text()
    assert report.splitlines()[0].startswith("PROPOSER UNAVAILABLE: the LLM agent openai:m at http://127.0.0.1:9/v1 "
                                             "never produced a candidate")
    assert json.loads((run_dir / "deployment.json").read_text())["deployed_id"].startswith("baseline-")


# ---------------------------------------------------------------- item 2: `invevolve score` verdicts


@pytest.mark.parametrize("source,verdict", [
    ("def order(obs, params)\n    return 1.0\n", "INVALID"),
    ("import os\ndef order(obs, params):\n    return os.getpid()\n", "INVALID"),
    ("def order(obs, params):\n    raise ValueError('boom')\n", "FAILED"),
])
def test_score_rejected_policy_exits_4(workspace_dir, tmp_path, source, verdict):
    pol = tmp_path / "p.py"
    pol.write_text(source)
    done = invevolve("score", "--workspace", str(workspace_dir), str(pol), "--sandbox", "none", "--trials", "5")
    assert done.rc == 4, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{pol}: {verdict}:" in done.stdout


def test_score_non_utf8_policy_exits_2(workspace_dir, tmp_path):
    pol = tmp_path / "p.py"
    pol.write_bytes(b"def order(obs, params):\n    return 1.0  # \xff\xfe\n")
    done = invevolve("score", "--workspace", str(workspace_dir), str(pol), "--sandbox", "none")
    assert done.rc == 2
    assert f"{pol}: not UTF-8 text" in done.one_error("invevolve")


def test_score_names_the_same_reference_on_every_line(workspace_dir, tmp_path):
    pol = tmp_path / "p.py"
    pol.write_text("import numpy as np\nPARAMS = {'S': (0.0, 40.0)}\n"
                   "def order(obs, params):\n    return np.maximum(params['S'] - obs.position, 0.0)\n")
    done = invevolve("score", "--workspace", str(workspace_dir), str(pol), "--sandbox", "none", "--trials", "10")
    assert done.rc == 0, done.stderr
    lines = done.stdout.splitlines()
    ref = lines[1].split()[1]
    assert lines[1].startswith(f"reference {ref} (the best baseline on the replay window")
    assert f"vs reference {ref}:" in lines[2]
    assert f"reference {ref} " in lines[3] and "best baseline on the test window" in lines[3]


# ---------------------------------------------------------------- item 4: silent misconfiguration


def test_unknown_workspace_key_is_refused_and_seal_keeps_the_manifest(workspace_dir, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(workspace_dir, ws)
    toml = ws / "workspace.toml"
    toml.write_text(toml.read_text().replace("on_hand = 12.0", "on_hnd = 57.0"))
    manifest = (ws / "manifest.json").read_bytes()
    for cmd in ("seal", "validate"):
        done = invevolve("workspace", cmd, str(ws))
        assert done.rc == 2
        assert f"{toml}: field 'initial_state.on_hnd': is not a known field" in done.one_error("invevolve")
    assert (ws / "manifest.json").read_bytes() == manifest


def test_agent_file_conflicting_with_the_search_is_refused(workspace_dir, tmp_path):
    agent_toml = tmp_path / "agent.toml"
    agent_toml.write_text("[agent]\nepisodes_per_round = 4\n")
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(tmp_path / "run"), "--llm", "openai:m",
                  "--base-url", "http://127.0.0.1:9/v1", "--agent-config", str(agent_toml), "--candidates", "2", "-q")
    assert done.rc == 2
    line = done.one_error("evolve")
    assert f"{agent_toml}: field 'agent.episodes_per_round' = 4 conflicts with search.candidates_per_round" in line
    agent_toml.write_text("[agent]\nseed = 7\n")
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(tmp_path / "run"), "--llm", "openai:m",
                  "--base-url", "http://127.0.0.1:9/v1", "--agent-config", str(agent_toml), "-q")
    assert done.rc == 2 and "field 'agent.seed' = 7 conflicts with search.seed" in done.one_error("evolve")


# ---------------------------------------------------------------- item 1 and 6: resume and the run directory


@pytest.mark.slow
def test_resume_refuses_changes_applies_more_rounds_and_deployed_policy_scores_itself(workspace_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = evolve("--workspace", str(workspace_dir), "--run-dir", str(run_dir), *FAST)
    assert done.rc == 0, done.stderr
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["proposer"] == {"kind": "builtin", "agent": None}
    assert meta["command_line"][:3] == ["evolve", "--workspace", str(workspace_dir)]
    assert meta["config"]["tuning"]["n_trials"] == 5 and meta["versions"]["numpy"]
    assert undocumented_files(run_dir) == []

    for flags, needle in ((["--trials", "30"], "--trials 30: this run was started with tuning.n_trials = 5"),
                          (["--rounds", "0"], "--rounds 0: a resumed run can add rounds but not drop them"),
                          (["--llm", "openai:m"], "this run's proposer is the built-in structural search"),
                          (["--run-dir", str(tmp_path / "x")], "--run-dir has no meaning with --resume")):
        refused = evolve("--resume", str(run_dir), *flags, "-q")
        assert refused.rc == 2 and needle in refused.one_error("evolve")

    more = evolve("--resume", str(run_dir), "--rounds", "2", "-q")
    assert more.rc == 0, more.stderr
    rounds = [json.loads(x)["round"] for x in (run_dir / "rounds.jsonl").read_text().splitlines()]
    assert rounds == [1, 2]
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["config"]["search"]["rounds"] == 2 and meta["resumes"][-1]["changes"] == {"search.rounds": 2}

    from sandbox.validator import validate_policy
    deployed = run_dir / "deployed_policy.py"
    dep = json.loads((run_dir / "deployment.json").read_text())
    assert validate_policy(deployed.read_text()).ok
    assert "TUNED_PARAMS = {" in deployed.read_text()
    scored = invevolve("score", "--workspace", str(workspace_dir), str(deployed), "--tuned", "--sandbox", "none")
    assert scored.rc == 0, scored.stderr
    assert f"replay cost/day {dep['replay_cost']:.4f} (TUNED_PARAMS from the file" in scored.stdout


def test_resume_of_a_missing_run_directory_exits_2(tmp_path):
    done = evolve("--resume", str(tmp_path / "nope"), "-q")
    assert done.rc == 2 and "not a run directory" in done.one_error("evolve")
