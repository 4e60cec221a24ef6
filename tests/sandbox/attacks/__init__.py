"""The attack corpus: hostile policies and shell commands, each with a host-side containment check.

Lives in the tests, not in the installed package. ``python -m sandbox.matrix`` loads it from
a checkout (``--corpus PATH``, default ``tests/sandbox/attacks``); the tests import it as
``tests.sandbox.attacks``.
"""
from __future__ import annotations

from .containment import CONTAINMENT
from .core import Attack, Env, Outcome, make_env, run_attack
from .trust import TRUST

ATTACKS = CONTAINMENT + TRUST

__all__ = ["ATTACKS", "Attack", "Env", "Outcome", "make_env", "run_attack"]
