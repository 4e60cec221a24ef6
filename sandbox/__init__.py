"""Isolation for untrusted code: policy workers, agent shells, the static validator."""
