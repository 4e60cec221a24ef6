"""Render a :class:`Genome` as a readable policy file in the standard contract.

The generated file is what a careful analyst would write by hand: named constants for the
structure, a ``forecast`` of each protection-period day, and an ``order`` function of a few
lines. Only the helpers a structure needs are written. The genome is recorded in the module
docstring so that a run can be audited and resumed. Every file is vectorised (parameters
arrive as arrays, one entry per parameter set) and passes the static validator.
"""
from __future__ import annotations

import re

from evolve.builtin.genome import Cap, Forecast, Genome, Position, Protection, Shape

GENOME_TAG = "genome: "

_SPACE = {
    "a": '"a": (0.5, 1.8)',
    "z": '"z": (-1.0, 3.0)',
    "theta": '"theta": (0.3, 0.995)',
    "w0": '"w0": (0.0, 2.0 * info.mean_demand + 1.0)',
    "alpha": '"alpha": (0.02, 0.6)',
    "beta": '"beta": (0.02, 0.6)',
    "b": '"b": (0.5, 2.5)',
    "tau": '"tau": (0, max(info.lead_time - 1, 0), "int")',
    "k": '"k": (0.2, 1.2)',
    "r": '"r": (0.0, cap)',
    "r0": '"r0": (0.0, cap)',
    "gamma": '"gamma": (0.0, 1.0)',
    "c": '"c": (0.5, 4.0)',
}

_DOW = '''
def day_of_week(obs, days):
    """Monday = 0 for each day index, from today's date."""
    today = int(np.datetime64(obs.date, "D").astype(np.int64))
    return (today + (np.asarray(days) - obs.t) + 3) % 7
'''

_WEEKDAY = '''
def weekday_profile(obs, recent, span):
    """Each coming day's weekday mean relative to the overall mean (1 until two weeks are known)."""
    mean = recent.mean()
    if len(recent) < 14 or mean <= 0:
        return np.ones(span)
    dow = day_of_week(obs, np.arange(obs.t - len(recent), obs.t))
    profile = np.array([recent[dow == k].mean() / mean if np.any(dow == k) else 1.0 for k in range(7)])
    return profile[day_of_week(obs, np.arange(obs.t, obs.t + span))]
'''

_LIFTS = '''
def lift_profile(obs, span):
    """Demand on announced feature days relative to the average day, for each coming day."""
    history = np.asarray(obs.demand, dtype=float)
    out = np.ones(span)
    for name in FEATURES:
        values = np.asarray(obs.features[name], dtype=float)
        on = values[: obs.t] > 0
        if on.sum() < 2 or (~on).sum() < 2 or history[~on].mean() <= 0:
            continue
        lift = history[on].mean() / history[~on].mean()
        ahead = values[obs.t: obs.t + span]
        out[: len(ahead)] *= np.where(ahead > 0, lift, 1.0) / (1.0 + on.mean() * (lift - 1.0))
    return out
'''

_RESET = '''
def since_shift(recent):
    """The days after the most significant level shift, if one is RESET_Z standard errors wide."""
    n = len(recent)
    if n < 21:
        return recent
    k = np.arange(7, n - 6)
    sums = np.cumsum(recent)
    before, after = sums[k - 1] / k, (sums[-1] - sums[k - 1]) / (n - k)
    stat = np.abs(after - before) / ((recent.std() + 1e-9) * np.sqrt(1.0 / k + 1.0 / (n - k)))
    best = int(np.argmax(stat))
    return recent[k[best]:] if stat[best] > RESET_Z else recent
'''

_MATRIX = '''
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

_EWMA = '''
def smooth(values, alpha):
    """Exponentially weighted mean of ``values`` (newest weighted ``alpha``), one per alpha."""
    alpha = np.asarray(alpha, dtype=float)[..., None]
    weights = alpha * (1.0 - alpha) ** np.arange(len(values))[::-1]
    return (weights * values).sum(axis=-1) / weights.sum(axis=-1)
'''

_PROJECT = '''
def projected_on_hand(obs, ahead):
    """Expected on-hand when today's order arrives: recent demand paths (rescaled to the
    forecast) drawn down from today's stock and arrivals; unmet demand is lost, not owed."""
    history = np.asarray(obs.demand, dtype=float)
    L = obs.lead_time
    m = min(SAMPLES, len(history) - L + 1)
    if m < 7:  # too little history: the forecast itself is the only path
        paths, scale = np.ones((1, L)), ahead[..., None, :L]
    else:
        paths = history[len(history) - m - L + 1 + np.arange(m)[:, None] + np.arange(L)]
        scale = ahead[..., None, :L] / max(paths.mean(), 1e-9)
    stock = np.asarray(obs.on_hand, dtype=float)[..., None]
    pipe = np.asarray(obs.pipeline, dtype=float).reshape(np.shape(obs.on_hand) + (-1,))
    for day in range(L):
        stock = np.maximum(stock - paths[:, day] * scale[..., day], 0.0)
        if day < L - 1:
            stock = stock + pipe[..., day, None]
    return stock.mean(axis=-1)
'''

_QUANTILE = '''
def quantile_ratio(recent, days, theta):
    """Quantile theta of past ``days``-day demand totals relative to their mean (1 if too few)."""
    if len(recent) < days + 4 or recent.mean() <= 0:
        return np.ones(np.shape(theta))
    totals = np.convolve(recent, np.ones(days), mode="valid")
    ranked = np.sort(totals)
    at = np.clip(np.round(np.asarray(theta) * (len(ranked) - 1)).astype(int), 0, len(ranked) - 1)
    return ranked[at] / totals.mean()
'''

_DAILY = {
    Forecast.MA: '''    level, error = recent.mean(), recent.std()
    ahead = level * np.ones(span)''',
    Forecast.EWMA: '''    level, error = smooth(recent, params["alpha"]), recent.std()
    ahead = level[..., None] * np.ones(span)''',
    Forecast.TREND: '''    x = np.arange(len(recent))
    slope, intercept = np.polyfit(x, recent, 1)
    error = (recent - (intercept + slope * x)).std()
    ahead = np.maximum(intercept + slope * (len(recent) + np.arange(span)), 0.0)''',
    Forecast.CROSTON: '''    hits = np.flatnonzero(recent > 0)
    if len(hits) == 0:
        return np.zeros(span), recent.std()
    intervals = np.diff(np.concatenate([[-1], hits]))
    level = smooth(recent[hits], params["alpha"]) / smooth(intervals, params["alpha"])
    error = recent.std()
    ahead = level[..., None] * np.ones(span)''',
    Forecast.TSB: '''    occurs = (recent > 0).astype(float)
    hits = np.flatnonzero(occurs)
    size = smooth(recent[hits], params["alpha"]) if len(hits) else 0.0 * np.asarray(params["alpha"])
    level, error = smooth(occurs, params["beta"]) * size, recent.std()
    ahead = level[..., None] * np.ones(span)''',
}
_DAILY[Forecast.SBA] = _DAILY[Forecast.CROSTON].replace(
    '/ smooth(intervals, params["alpha"])',
    '/ smooth(intervals, params["alpha"])\n    level = level * (1.0 - np.asarray(params["alpha"]) / 2.0)  # SBA bias correction')

_REGRESSION = '''
def forecast(obs, params):
    """Demand expected on each day t..{last}, and the one-day forecast error sd."""
    span = {span}
    demand = np.asarray(obs.demand, dtype=float)
    start = max(0, obs.t - WINDOW) if WINDOW else 0
{reset}    past = np.arange(start, obs.t)
    X = feature_matrix(obs, past)
    if len(past) < X.shape[1] + 5:
        if obs.t < WARMUP:
            return np.ones(span) * np.asarray(params["w0"], dtype=float)[..., None], 0.0
        recent = demand[-7:]
        return recent.mean() * np.ones(span), recent.std()
    coef, *_ = np.linalg.lstsq(X, demand[start:], rcond=None)
    error = (demand[start:] - X @ coef).std()
    ahead = np.maximum(feature_matrix(obs, np.arange(obs.t, obs.t + span)) @ coef, 0.0)
    return ahead, error
'''

_HISTORY = '''
def history(obs):
    """Demand of the days the protection quantile learns from."""
    demand = np.asarray(obs.demand, dtype=float)
    return {recent}
'''

_GENERIC = '''
def history(obs):
    """Demand of the days the forecast learns from."""
    demand = np.asarray(obs.demand, dtype=float)
    return {recent}


def forecast(obs, params):
    """Demand expected on each day t..{last}, and the one-day forecast error sd."""
    span = {span}
    if obs.t < WARMUP:
        return np.ones(span) * np.asarray(params["w0"], dtype=float)[..., None], 0.0
    recent = history(obs)
{daily}
    return ahead{profile}, error
'''


def param_names(g: Genome) -> list[str]:
    names = ["a", "theta" if g.protection is Protection.QUANTILE else "z", "w0"]
    if g.forecast in (Forecast.EWMA, Forecast.CROSTON, Forecast.SBA, Forecast.TSB):
        names.append("alpha")
    if g.forecast is Forecast.TSB:
        names.append("beta")
    if g.position is Position.DUAL:
        names += ["b", "tau"]
    if g.shape is not Shape.FULL:
        names.append("k")
    names += {Cap.NONE: [], Cap.FIXED: ["r"], Cap.TILTED: ["r0", "gamma"], Cap.RELATIVE: ["c"]}[g.cap]
    return names


def _forecast_source(g: Genome) -> str:
    projected = g.position is Position.PROJECTED
    span = "obs.lead_time + COVER" if projected else "obs.lead_time + 1"
    last = "t+L+COVER-1" if projected else "t+L"
    recent = "demand[-WINDOW:] if WINDOW else demand"
    if g.reset:
        recent = f"since_shift({recent})"
    if g.forecast is Forecast.REGRESSION:
        reset = "    start = obs.t - len(since_shift(demand[start:]))\n" if g.reset else ""
        quantile = _HISTORY.format(recent=recent) if g.protection is Protection.QUANTILE else ""
        return quantile + _REGRESSION.format(reset=reset, span=span, last=last)
    profile = ""
    if g.weekday:
        profile += " * weekday_profile(obs, recent, span)"
    if g.lifts and g.features:
        profile += " * lift_profile(obs, span)"
    return _GENERIC.format(recent=recent, daily=_DAILY[g.forecast], profile=profile, span=span, last=last)


def _protection(g: Genome, days: str, total: str) -> str:
    """Target stock for ``days`` coming days whose expected demand is ``total``."""
    if g.protection is Protection.QUANTILE:
        return f'params["a"] * {total} * quantile_ratio(history(obs), {days}, params["theta"])'
    return f'params["a"] * {total} + params["z"] * error * np.sqrt({days})'


def _order_body(g: Genome) -> str:
    lines = ["    ahead, error = forecast(obs, params)"]
    if g.position is Position.PROJECTED:
        lines += [
            "    cover = ahead[..., obs.lead_time:].sum(axis=-1)  # demand of the COVER days after arrival",
            f"    level = {_protection(g, 'COVER', 'cover')}",
            "    short = level - projected_on_hand(obs, ahead)",
        ]
    else:
        lines += [
            "    span = obs.lead_time + 1",
            f"    level = {_protection(g, 'span', 'ahead.sum(axis=-1)')}",
            "    short = level - obs.position",
        ]
    lines.append("    gap = np.maximum(short, 0.0)")
    lines.append("    qty = " + {
        Shape.FULL: "gap",
        Shape.PROPORTIONAL: 'params["k"] * gap',
        Shape.SMOOTHED: 'np.maximum(ahead[..., 0] + params["k"] * (short - ahead[..., 0]), 0.0)  # k = 1: order-up-to',
    }[g.shape])
    if g.position is Position.DUAL:
        lines += [
            "    pipe = np.asarray(obs.pipeline, dtype=float).reshape(np.shape(obs.on_hand) + (-1,))",
            '    tau = np.asarray(params["tau"]).astype(int)[..., None]  # orders arriving within tau days count as near',
            "    arrived = np.cumsum(np.concatenate([np.zeros(np.shape(obs.on_hand) + (1,)), pipe], axis=-1), axis=-1)",
            "    near = obs.on_hand + np.take_along_axis(arrived, np.minimum(tau, arrived.shape[-1] - 1), axis=-1)[..., 0]",
            "    soon = np.cumsum(np.broadcast_to(ahead, np.shape(obs.on_hand) + (np.shape(ahead)[-1],)), axis=-1)",
            '    qty = np.minimum(qty, np.maximum(params["b"] * np.take_along_axis(soon, tau, axis=-1)[..., 0] - near, 0.0))',
        ]
    cap = {
        Cap.NONE: None,
        Cap.FIXED: 'params["r"]',
        Cap.TILTED: 'params["r0"] + params["gamma"] * gap',
        Cap.RELATIVE: 'params["c"] * ahead.mean(axis=-1)',
    }[g.cap]
    lines.append(f"    return np.minimum(qty, {cap})" if cap else "    return qty")
    return "\n".join(lines)


def render(g: Genome) -> str:
    space = ",\n        ".join(_SPACE[n] for n in param_names(g))
    helpers = ""
    if g.weekday:
        helpers += _DOW
        if g.forecast is not Forecast.REGRESSION:
            helpers += _WEEKDAY
    if g.forecast is Forecast.REGRESSION:
        helpers += ("" if g.weekday else _DOW) + _MATRIX
    if g.lifts and g.features and g.forecast is not Forecast.REGRESSION:
        helpers += _LIFTS
    if g.reset:
        helpers += _RESET
    if g.forecast in (Forecast.EWMA, Forecast.CROSTON, Forecast.SBA, Forecast.TSB):
        helpers += _EWMA
    if g.protection is Protection.QUANTILE:
        helpers += _QUANTILE
    if g.position is Position.PROJECTED:
        helpers += _PROJECT
    consts = [
        f"WINDOW = {g.window}  # days of history used (0 = all)",
        "WARMUP = 7  # until a week of history exists, expect a tuned w0 units per day",
        f"FEATURES = {tuple(g.features)!r}  # "
        + ("regression inputs" if g.forecast is Forecast.REGRESSION else "announced features that lift demand"),
        f"WEEKDAY = {g.weekday}  # weekday effects",
    ]
    if g.reset:
        consts.append("RESET_Z = 4.0  # a level shift this many standard errors wide restarts the history")
    if g.position is Position.PROJECTED:
        consts.append("SAMPLES = 56  # past demand paths used to project the on-hand")
        consts.append(f"COVER = {g.cover}  # days of demand the target covers once the order arrives")
    consts_src = "\n".join(consts)
    helpers = helpers.replace("\ndef ", "\n\ndef ")  # two blank lines between top-level functions
    return f'''"""Built-in structural search: {g.describe()}.

{GENOME_TAG}{g.key()}
"""
import numpy as np

{consts_src}


def search_space(info):
    cap = max(info.max_demand, 4 * info.mean_demand, 1.0)
    return {{
        {space},
    }}
{helpers}{_forecast_source(g)}

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
