"""Class 9 (validator): module attributes are an allowlist; every known bypass is rejected."""
from __future__ import annotations

import glob

import numpy as np
import pytest

from sandbox.host import SandboxHost
from sandbox.validator import validate_policy
from tests.sandbox._support import REPO
from tests.sandbox.attacks.validator_bypass import BYPASSES
from tests.security._sandbox_support import backend, small_problem


@pytest.mark.parametrize("name", list(BYPASSES), ids=list(BYPASSES))
def test_bypass_is_rejected(name):
    v = validate_policy(BYPASSES[name])
    assert not v.ok and v.reasons


def test_randomness_is_rejected_with_its_reason():
    src = "import numpy as np\ndef order(obs, params):\n    return np.random.poisson(5.0)\n"
    assert any("deterministic" in r for r in validate_policy(src).reasons)
    assert any("forbidden module `random`" in r for r in validate_policy("import random\n" + src).reasons)


def test_ordinary_policies_still_pass():
    for f in glob.glob(str(REPO / "inventory" / "library" / "*.py")):
        if not f.endswith("__init__.py"):
            assert validate_policy(open(f).read()).ok, f
    src = ('import numpy as np\nimport math\nfrom statistics import NormalDist\nfrom collections import deque\n'
           'import numpy.linalg as la\nPARAMS = {"S": (0.0, 40.0), "k": (0.0, 2.0)}\n'
           'def helper(xs):\n    window = deque(xs[-7:], maxlen=7)\n    return sum(window) / max(len(window), 1)\n'
           'def order(obs, params):\n    level = helper(list(obs.demand))\n    z = NormalDist().inv_cdf(0.9)\n'
           '    spread = float(np.std(obs.demand[-14:])) if len(obs.demand) > 1 else 0.0\n'
           '    _ = la.norm(np.asarray([1.0, 2.0])) + np.linalg.norm(np.ones(2))\n'
           '    return np.maximum(params["S"] + params["k"] * (level + z * spread) - obs.position, 0.0) + 0 * math.pi\n')
    v = validate_policy(src)
    assert v.ok, v.reasons


def test_worker_seeds_the_global_rngs():
    """Defence in depth: even with the validator bypassed, np.random gives the same scores twice."""
    src = ('import numpy as np\nPARAMS = {"r": (0.0, 10.0)}\n'
           'def order(obs, params):\n    return params["r"] * np.random.random()\n')
    host = SandboxHost(small_problem(), backend("bwrap"))
    try:
        a = host.open(src, "rng-a").mean_costs({"r": np.array([5.0, 8.0])})
        b = host.open(src, "rng-b").mean_costs({"r": np.array([5.0, 8.0])})
        assert np.array_equal(a, b)
    finally:
        host.close()


def test_every_builtin_proposer_template_passes():
    """The allowlists must not reject what the built-in structural search writes (dead helper calls included)."""
    from evolve.builtin.genome import Cap, Forecast, Genome, Position, Shape
    from evolve.builtin.render import render

    for forecast in Forecast:
        for features in ((), ("promo",), ("promo", "temp")):
            for weekday in (False, True):
                for cap in Cap:
                    g = Genome(forecast, 28, features, weekday, lifts=bool(features), cap=cap,
                               shape=Shape.PROPORTIONAL if weekday else Shape.FULL,
                               position=Position.PROJECTED if cap is Cap.TILTED else Position.IP)
                    v = validate_policy(render(g))
                    assert v.ok, (g, v.reasons)
