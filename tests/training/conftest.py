"""Fixtures for the training tests: small real workspaces and suites, a tiny local model, sandboxed shells.

``promo_workspace`` is built so that a known, promotion-aware policy (:data:`WINNING_POLICY`)
beats all five tuned baselines on the test window by a wide margin: demand jumps on planned
promotion days, which are announced 7 days ahead, and none of the baselines reads features.
That makes reward 1 reachable for a forced rollout and reward 0 for everything else.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from inventory.sequence import Availability, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState
from inventory.tuning import TuningConfig
from inventory.workspace import ProblemSpec, WorkspaceSpec
from inventory.workspace_write import write_workspace
from tests.conftest import build_workspace

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WINNING_POLICY = '''import numpy as np

PARAMS = {"S": (0.0, 30.0), "a": (0.0, 40.0), "b": (0.0, 40.0)}


def order(obs, params):
    promo = obs.features["promo"]
    t = obs.t
    now = promo[t] if len(promo) > t else 0.0
    nxt = promo[t + 1] if len(promo) > t + 1 else 0.0
    target = params["S"] + params["a"] * now + params["b"] * nxt
    return np.maximum(target - obs.position, 0.0)
'''
WINNING_SCRIPT = "```shell\ncat > final_submit.py <<'EOF'\n" + WINNING_POLICY + "EOF\n```"
FAILING_POLICY = '''PARAMS = {"S": (0.0, 30.0)}


def order(obs, params):
    raise ValueError("this policy always fails")
'''
HANGING_POLICY = '''PARAMS = {"S": (0.0, 30.0)}


def order(obs, params):
    x = 0
    while True:
        x += 1
    return x
'''


def build_promo_workspace(root: Path, *, seed: int = 0, replay: int = 100, forward: int = 30) -> Path:
    days = replay + forward
    rng = np.random.default_rng(seed)
    dates = [str(np.datetime64("2024-01-01") + i) for i in range(days)]
    promo = (rng.random(days) < 0.2).astype(float)
    demand = rng.poisson(2.0, days) + 20 * promo
    seq = DemandSequence(dates, demand.astype(float), {"promo": promo})
    specs = (FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, "planned promotion"),)
    spec = WorkspaceSpec(ProblemSpec(root.name, "retail", "widget", 1.0, 9.0, 1, replay, forward),
                         InitialState(6.0, (2.0,)), specs)
    write_workspace(root, spec, seq.slice(0, replay), seq.slice(replay, days), tuning=TuningConfig(n_trials=20))
    return root


@pytest.fixture(scope="session")
def promo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_promo_workspace(tmp_path_factory.mktemp("promo") / "promo_ws")


@pytest.fixture(scope="session")
def mini_suite(tmp_path_factory: pytest.TempPathFactory, promo_workspace: Path) -> Path:
    """A suite folder with a split file: two training workspaces and two held-out ones."""
    root = tmp_path_factory.mktemp("suite") / "synthetic"
    root.mkdir()
    shutil.copytree(promo_workspace, root / "promo_a")
    build_promo_workspace(root / "promo_b", seed=1)
    for i, name in enumerate(("held_1", "held_2")):
        build_workspace(root / name, seed=10 + i)
    (root / "splits").mkdir()
    (root / "splits" / "standard.json").write_text(json.dumps({"train": ["promo_a", "promo_b"],
                                                               "test": ["held_1", "held_2"]}))
    (root / "suite.json").write_text(json.dumps({"workspaces": [{"name": n} for n in
                                                                ("promo_a", "promo_b", "held_1", "held_2")]}))
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, promo_workspace: Path) -> Path:
    """A random Qwen2 and a BPE tokenizer trained here (no hub), on text that includes the winning script."""
    from training.data import build_prompt
    from inventory.workspace import load_workspace
    from training.tiny import build_tiny_model

    prompt = build_prompt(load_workspace(promo_workspace), 1)
    texts = [m["content"] for m in prompt] + [WINNING_SCRIPT] * 20
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", texts, vocab_size=1024, hidden=32)


@pytest.fixture(scope="session")
def shell_factory():
    from agent.proposer import sandbox_shell_factory
    from sandbox import select_backend

    try:
        select_backend("auto")
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no sandbox backend for agent shells: {exc}")
    return sandbox_shell_factory("auto", command_timeout=60, max_output=8000)


def forcing_bias(tokenizer, script: str, first: float, rest: float = 60.0) -> list[list]:
    """``sequence_bias`` that makes the model open its first reply with ``script``, some of the time.

    The script's first token gets bias ``first`` only right after the generation prompt
    (``<|im_start|>assistant\n``), so a rollout either starts the script on its first token or
    never does: with ``first`` near ln(vocabulary size) about half of them do (reward
    variance). Every later script token is boosted by ``rest`` right after the exact prefix.
    """
    head = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    ids = tokenizer(script, add_special_tokens=False)["input_ids"]
    n = 1       # shortest context that determines the next script token (keeps the bias processor cheap)
    while n < len(ids) and len({tuple(ids[max(0, k - n):k]) for k in range(1, len(ids))}) < len(ids) - 1:
        n += 1
    out = [[head + ids[:1], first]]
    out += [[ids[max(0, k - n): k + 1], rest] for k in range(1, len(ids))]
    return out
