"""Redaction of host secrets from text that leaves the trusted side (defence in depth).

Sandboxes start from an empty environment (the real boundary); still, nothing that an agent
records, the LLM is sent, or a run directory or log keeps may carry a secret of the host.
:class:`Redactor` replaces the values of secret-looking environment variables (names
containing KEY, TOKEN, SECRET, PASSW, CRED, AUTH, ...) and of explicitly named ones (the configured
API-key variable) with ``[REDACTED:NAME]``, also in their base64 and hex spellings, in
strings and, recursively, in lists and dicts. Values shorter than :data:`MIN_SECRET_LEN`
are not treated as secrets (they would redact ordinary text).
"""
from __future__ import annotations

import base64
import logging
import os
import re
from typing import Any, Iterable, Mapping

MIN_SECRET_LEN = 8
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CRED|AUTH|PRIVATE|SESSION|COOKIE|SIGNATURE",
                         re.IGNORECASE)


def _spellings(value: str) -> set[str]:
    """The value and the ways it commonly travels encoded (base64 at each alignment, hex)."""
    raw = value.encode("utf-8", "replace")
    out = {value, raw.hex()}
    for shift in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            text = enc(b"\0" * shift + raw).decode("ascii")
            # drop the characters that depend on the padding or the neighbours
            start = (4 * shift + 2) // 3 + (1 if shift else 0)
            core = text[start:len(text) - 4]
            if len(core) >= MIN_SECRET_LEN:
                out.add(core)
    return out


class Redactor:
    """Replaces secret values; build one per run (it reads the environment once)."""

    def __init__(self, names: Iterable[str] = (), env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        wanted = set(names)
        found: dict[str, str] = {}
        for name, value in env.items():
            if (name in wanted or SECRET_NAME.search(name)) and len(value) >= MIN_SECRET_LEN:
                for spelling in _spellings(value):
                    found.setdefault(spelling, name)
        # longest first, so a value is replaced before any of its substrings
        self._items = sorted(found.items(), key=lambda kv: -len(kv[0]))
        self._pattern = re.compile("|".join(re.escape(s) for s, _ in self._items)) if self._items else None
        self._names = dict(self._items)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def text(self, value: str) -> str:
        if self._pattern is None or not value:
            return value
        return self._pattern.sub(lambda m: f"[REDACTED:{self._names[m.group(0)]}]", value)

    def scrub(self, obj: Any) -> Any:
        """A copy of ``obj`` (str, list, tuple, dict, nested) with every string redacted."""
        if self._pattern is None:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.scrub(k) if isinstance(k, str) else k: self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self.scrub(v) for v in obj)
        return obj


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's final message (install on handlers)."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if self.redactor:
            message = record.getMessage()
            cleaned = self.redactor.text(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def install_log_redaction(redactor: Redactor, logger: logging.Logger | None = None) -> list[logging.Handler]:
    """Add a :class:`RedactingFilter` to every handler of ``logger`` (default: root); returns them."""
    logger = logger or logging.getLogger()
    done = []
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) and f.redactor is redactor for f in handler.filters):
            handler.addFilter(RedactingFilter(redactor))
            done.append(handler)
    return done
