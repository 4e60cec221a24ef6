"""The GRPO reward comes from the trusted evaluator only and is 0 on every failure."""
from __future__ import annotations

import time

import pytest

from tests.training.conftest import FAILING_POLICY, HANGING_POLICY, WINNING_POLICY
from training.config import RewardConfig
from training.reward import RewardStatus, TrustedReward

ZERO_ORDER = 'PARAMS = {"S": (0.0, 1.0)}\n\n\ndef order(obs, params):\n    return 0.0\n'


@pytest.fixture(scope="module")
def reward() -> TrustedReward:
    return TrustedReward(RewardConfig(trials=10, timeout=60, workers=2, sandbox="auto"))


def test_winning_submission_gets_reward_one_with_its_margin(reward, promo_workspace):
    out = reward.score(promo_workspace, WINNING_POLICY)
    name, base = reward.best_baseline(promo_workspace)
    assert out.status is RewardStatus.SUCCESS and out.reward == 1.0 and out.valid
    assert out.baseline_cost == base and out.baseline_name == name
    assert out.cost < base and out.margin == pytest.approx(base - out.cost) and out.relative_change < 0
    assert out.params and set(out.params) == {"S", "a", "b"}


def test_valid_but_not_better_gets_zero(reward, promo_workspace):
    out = reward.score(promo_workspace, ZERO_ORDER)
    assert out.status is RewardStatus.NO_IMPROVEMENT and out.reward == 0.0 and out.valid
    assert out.margin is not None and out.margin < 0


@pytest.mark.parametrize("source, status", [
    (None, RewardStatus.NO_SUBMISSION),
    (FAILING_POLICY, RewardStatus.FAILED),                  # raises inside order(): an exception
    ("import os\n" + WINNING_POLICY, RewardStatus.INVALID),  # rejected by the static validator
])
def test_failures_get_zero(reward, promo_workspace, source, status):
    out = reward.score(promo_workspace, source)
    assert out.status is status and out.reward == 0.0 and not out.valid


def test_timeout_gets_zero(promo_workspace):
    quick = TrustedReward(RewardConfig(trials=10, timeout=3.0, workers=1))
    quick.best_baseline(promo_workspace)            # cache the baselines so the clock measures the policy
    t0 = time.monotonic()
    out = quick.score(promo_workspace, HANGING_POLICY)
    assert out.status is RewardStatus.TIMEOUT and out.reward == 0.0
    assert time.monotonic() - t0 < 30


def test_evaluator_exception_gets_zero(reward, tmp_path):
    out = reward.score(tmp_path / "no_such_workspace", WINNING_POLICY)
    assert out.status is RewardStatus.ERROR and out.reward == 0.0 and "no_such_workspace" in (out.error or "")


def test_score_many_keeps_order(reward, promo_workspace):
    outs = reward.score_many([(str(promo_workspace), WINNING_POLICY), (str(promo_workspace), None),
                              (str(promo_workspace), FAILING_POLICY)])
    assert [o.reward for o in outs] == [1.0, 0.0, 0.0]
    assert [o.status for o in outs] == [RewardStatus.SUCCESS, RewardStatus.NO_SUBMISSION, RewardStatus.FAILED]


def test_only_the_reward_module_calls_the_evaluator():
    """Every call into the evaluator lives in training/reward.py (one module to merge with its rework)."""
    import re
    from pathlib import Path

    pkg = Path(__file__).resolve().parents[2] / "training"
    pattern = re.compile(r"^\s*(from|import)\s+evaluation\b", re.M)
    users = sorted(p.name for p in pkg.glob("*.py") if pattern.search(p.read_text(encoding="utf-8")))
    assert users == ["reward.py"]
