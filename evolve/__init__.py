"""The LLM-guided policy search loop (SPEC §5): pool, champion, rounds, proposers, run directory."""
