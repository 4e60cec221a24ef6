"""The audit's records: checks with verdicts, and the result of one audit.

Every check the audit runs (static, probe, stress, certificate) ends as one :class:`Check`
with a :class:`Verdict` and a plain-words reason. Whether a check *blocks* a deployment is
a property of the check, fixed in :data:`BLOCKING` and documented in ``docs/audit.md``; the
CLI exits non-zero exactly when a blocking check fails.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

SCHEMA_VERSION = 1


class Verdict(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"   # not applicable here (e.g. no censored data); the reason says why


class Group(str, Enum):
    STATIC = "static"
    REPLAY = "replay"
    PROBE = "probe"
    STRESS = "stress"
    CERTIFICATE = "certificate"


class CheckId(str, Enum):
    VALIDATOR = "validator"
    RANDOMNESS = "randomness"
    REPLAY_REPRODUCES = "replay_reproduces"
    ORDERS_VALID = "orders_valid"
    ORDER_CAP = "order_cap"
    MONOTONE = "monotone_in_position"
    DETERMINISM = "determinism"
    FEATURE_RESPONSE = "feature_response"
    WEEKDAY_RESPONSE = "weekday_response"
    LONG_HORIZON = "long_horizon_stability"
    COST_SENSITIVITY = "cost_sensitivity"
    STRESS = "stress"
    CERTIFICATE = "certificate"


# A failing check of these kinds makes `invevolve audit` exit non-zero (docs/audit.md).
# CERTIFICATE blocks only for a run's own certificate (see audit.certificate_text).
BLOCKING: frozenset[CheckId] = frozenset({
    CheckId.VALIDATOR, CheckId.REPLAY_REPRODUCES, CheckId.ORDERS_VALID, CheckId.ORDER_CAP,
    CheckId.MONOTONE, CheckId.LONG_HORIZON, CheckId.STRESS, CheckId.CERTIFICATE,
})


@dataclass
class Check:
    """One audited property. ``subject`` names the feature/scenario for per-item checks."""

    check: CheckId
    group: Group
    verdict: Verdict
    reason: str
    subject: str = ""
    blocking: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.blocking is None:
            self.blocking = self.check in BLOCKING

    @property
    def key(self) -> str:
        return f"{self.check.value}:{self.subject}" if self.subject else self.check.value

    @property
    def blocks(self) -> bool:
        """True when this check fails and is a blocking one."""
        return bool(self.blocking) and self.verdict is Verdict.FAIL

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.key, "check": self.check.value, "group": self.group.value, "subject": self.subject,
                "verdict": self.verdict.value, "blocking": bool(self.blocking), "reason": self.reason,
                "details": self.details}


@dataclass(frozen=True)
class Plot:
    """One embedded figure: ``data`` is a base64 PNG."""

    key: str
    title: str
    caption: str
    data: str
