"""A host provider for benchmarks that replay trusted code only (library baselines, built-in
proposer templates): tuning and the day-by-day replay both run in this process.

The numbers are those of a sandboxed run (same simulator, same policy code) without a
process start and a round trip per replayed day, which is what makes 10,000-day replays
affordable in a suite benchmark. Never use it for generated code from an LLM.
"""
from __future__ import annotations

from evaluation.hosts import HostProvider
from inventory.host import InProcessHost, PolicyHost


class TrustedCodeProvider(HostProvider):
    name = "trusted-in-process (benchmark)"

    def tuning_host(self, problem) -> PolicyHost:
        return InProcessHost(problem)

    def replay_host(self, problem) -> PolicyHost:
        return InProcessHost(problem)
