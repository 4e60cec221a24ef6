"""The trusted evaluator: the only scorer whose numbers decide anything."""
