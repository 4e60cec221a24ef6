"""The built-in proposer: structural search over white-box policies, no LLM needed."""
from evolve.builtin.proposer import BuiltinProposer

__all__ = ["BuiltinProposer"]
