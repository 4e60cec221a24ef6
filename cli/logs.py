"""Logging set-up shared by the commands (tqdm-friendly, to stderr)."""
from __future__ import annotations

import logging


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("optuna", "httpx", "urllib3", "docker"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
