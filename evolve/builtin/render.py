"""Render a :class:`Genome` as a readable policy file in the standard contract.

The generated file is what a careful analyst would write by hand: named constants for the
structure, a ``forecast`` function, and an ``order`` function of a few lines. The genome is
recorded in the module docstring so that a run can be audited and resumed.
"""
from __future__ import annotations

import re

from evolve.builtin.genome import Genome

GENOME_TAG = "genome: "

_SPACE = {
    "a": '"a": (0.5, 1.8)',
    "z": '"z": (-1.0, 3.0)',
    "k": '"k": (0.2, 1.2)',
    "r": '"r": (0.0, cap)',
    "r0": '"r0": (0.0, cap)',
    "gamma": '"gamma": (0.0, 1.0)',
    "c": '"c": (0.5, 4.0)',
    "alpha": '"alpha": (0.02, 0.6)',
    "w0": '"w0": (0.0, 2.0 * info.mean_demand + 1.0)',
}

_HELPERS = '''
def day_of_week(obs, days):
    """Monday = 0 for each day index, from today's date."""
    today = int(np.datetime64(obs.date, "D").astype(np.int64))
    return (today + (np.asarray(days) - obs.t) + 3) % 7


def weekday_total(obs, recent, mean, span):
    """Sum over days t..t+L of each weekday's mean demand relative to ``mean``."""
    dow = day_of_week(obs, np.arange(obs.t - len(recent), obs.t))
    profile = np.array([recent[dow == k].mean() if np.any(dow == k) else mean for k in range(7)]) / mean
    return profile[day_of_week(obs, np.arange(obs.t, obs.t + span))].sum()


def feature_matrix(obs, days):
    """Design matrix: intercept, features (last visible value beyond what is known), weekdays."""
    cols = [np.ones(len(days))]
    for name in FEATURES:
        values = np.asarray(obs.features[name], dtype=float)
        cols.append(values[np.minimum(days, len(values) - 1)] if len(values) else np.zeros(len(days)))
    if WEEKDAY:
        dow = day_of_week(obs, days)
        cols.extend((dow == k).astype(float) for k in range(6))
    return np.column_stack(cols)
'''

_FORECAST = {
    "regression": '''
def forecast(obs, params):
    """Demand expected over days t..t+L, and the one-day forecast error sd."""
    span = obs.lead_time + 1
    history = np.asarray(obs.demand, dtype=float)
    start = max(0, obs.t - WINDOW) if WINDOW else 0
    past = np.arange(start, obs.t)
    X = feature_matrix(obs, past)
    if len(past) < X.shape[1] + 5:
        if obs.t < WARMUP:
            return span * params["w0"], 0.0
        recent = history[-7:]
        return span * recent.mean(), recent.std()
    coef, *_ = np.linalg.lstsq(X, history[start:], rcond=None)
    error = (history[start:] - X @ coef).std()
    ahead = feature_matrix(obs, np.arange(obs.t, obs.t + span)) @ coef
    return max(float(ahead.sum()), 0.0), error
''',
    "ma": '''
def forecast(obs, params):
    """Demand expected over days t..t+L, and the one-day demand sd."""
    span = obs.lead_time + 1
    history = np.asarray(obs.demand, dtype=float)
    recent = history[-WINDOW:] if WINDOW else history
    if obs.t < WARMUP:
        return span * params["w0"], 0.0
    level = recent.mean()
    if WEEKDAY and len(recent) >= 14 and level > 0:
        return level * weekday_total(obs, recent, level, span), recent.std()
    return span * level, recent.std()
''',
    "ewma": '''
def forecast(obs, params):
    """Demand expected over days t..t+L (exponential smoothing), and the one-day demand sd."""
    span = obs.lead_time + 1
    history = np.asarray(obs.demand, dtype=float)
    recent = history[-WINDOW:] if WINDOW else history
    if obs.t < WARMUP:
        return span * params["w0"], 0.0
    alpha = np.asarray(params["alpha"], dtype=float)
    age = np.arange(len(recent))[::-1]
    weights = alpha[..., None] * (1.0 - alpha[..., None]) ** age
    level = (weights * recent).sum(axis=-1) / weights.sum(axis=-1)
    mean = recent.mean()
    if WEEKDAY and len(recent) >= 14 and mean > 0:
        return level * weekday_total(obs, recent, mean, span), recent.std()
    return span * level, recent.std()
''',
}


def param_names(g: Genome) -> list[str]:
    names = ["a", "z", "w0"]
    if g.forecast == "ewma":
        names.append("alpha")
    if g.proportional:
        names.append("k")
    names += {"none": [], "fixed": ["r"], "tilted": ["r0", "gamma"], "relative": ["c"]}[g.cap]
    return names


def _order_body(g: Genome) -> str:
    lines = [
        "    expected, error = forecast(obs, params)",
        "    span = obs.lead_time + 1",
        '    level = params["a"] * expected + params["z"] * error * np.sqrt(span)',
        "    gap = np.maximum(level - obs.position, 0.0)",
        '    qty = params["k"] * gap' if g.proportional else "    qty = gap",
    ]
    cap = {
        "none": None,
        "fixed": 'params["r"]',
        "tilted": 'params["r0"] + params["gamma"] * gap',
        "relative": 'params["c"] * expected / span',
    }[g.cap]
    lines.append(f"    return np.minimum(qty, {cap})" if cap else "    return qty")
    return "\n".join(lines)


def render(g: Genome) -> str:
    space = ",\n        ".join(_SPACE[n] for n in param_names(g))
    needs_matrix = g.forecast == "regression"
    helpers = _HELPERS if (needs_matrix or g.weekday) else ""
    if not needs_matrix and helpers:
        helpers = helpers.split("\n\ndef feature_matrix")[0] + "\n"
    return f'''"""Built-in structural search: {g.describe()}.

{GENOME_TAG}{g.key()}
"""
import numpy as np

WINDOW = {g.window}  # days of history used (0 = all)
WARMUP = 7  # until a week of history exists, expect a tuned w0 units per day
FEATURES = {tuple(g.features)!r}  # regression inputs
WEEKDAY = {g.weekday}  # weekday effects


def search_space(info):
    cap = max(info.max_demand, 4 * info.mean_demand, 1.0)
    return {{
        {space},
    }}
{helpers}{_FORECAST[g.forecast]}

def order(obs, params):
{_order_body(g)}
'''


def genome_of(source: str) -> Genome | None:
    """The genome recorded in a built-in policy's docstring, if any."""
    m = re.search(re.escape(GENOME_TAG) + r"(\{.*\})", source)
    if not m:
        return None
    try:
        return Genome.from_key(m.group(1))
    except (ValueError, TypeError, KeyError):
        return None
