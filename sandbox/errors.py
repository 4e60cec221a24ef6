"""The two ways a sandbox can fail that are not the policy's fault.

* :class:`SandboxUnavailable`: the requested backend cannot run on this machine (raised
  before any candidate runs; the message says what to install or fix).
* :class:`SandboxFailure`: the sandbox *infrastructure* failed while a candidate was in
  flight (its worker died, was recycled, sent garbage or stopped answering). It subclasses
  :class:`inventory.policy.PolicyError`, so code that only knows PolicyError still records
  a failure, but an evaluator that catches it first can retry the candidate once on a
  fresh worker instead of marking it failed for good. A policy that kills its own worker
  fails the retry too, so one retry is enough.
"""
from __future__ import annotations

from inventory.policy import PolicyError


class SandboxUnavailable(RuntimeError):
    """The requested backend cannot run on this machine (the message says why)."""


class SandboxFailure(PolicyError):
    """Infrastructure failure with a candidate in flight: retry it once on a fresh worker."""
