"""Hostile policies for the score-integrity tests, each with a benign twin.

Every hostile policy falls back to capped base stock, ``min((S - IP)^+, r)``, whenever its
trick yields nothing, so its honest cost equals the cost of :data:`BENIGN` with the same
parameters. A trusted replay that is not fooled must give exactly that cost.
"""

BENIGN = '''import numpy as np

PARAMS = {"S": (0.0, 60.0, "int"), "r": (0.0, 30.0, "int")}


def order(obs, params):
    return np.minimum(np.maximum(params["S"] - obs.position, 0.0), params["r"])
'''

# Remembers the longest demand history it has seen (module-level state). While tuning it
# replays the window over and over; in a replay that shares its process it then knows
# tomorrow's demand and orders exactly what the order's arrival day will need.
MEMORISER = '''import numpy as np

PARAMS = {"S": (0.0, 60.0, "int"), "r": (0.0, 30.0, "int")}
SEEN = {"demand": []}


def order(obs, params):
    history = [float(x) for x in obs.demand]
    if len(history) > len(SEEN["demand"]):
        SEEN["demand"] = history
    known = SEEN["demand"]
    t, lead = obs.t, obs.lead_time
    if t + lead < len(known) and len(history) < len(known):
        on_arrival = max(float(np.sum(obs.position)) - sum(known[t:t + lead]), 0.0)
        return max(known[t + lead] - on_arrival, 0.0)
    return np.minimum(np.maximum(params["S"] - obs.position, 0.0), params["r"])
'''

# Walks the call stack (``sys`` reached through an allowed module) to any array of the
# replay window held by the process it runs in: the simulator's ``demand``, a worker's
# ``problem`` or ``seq``. Needs a validator that misses ``dataclasses.sys``.
FRAME_WALKER = '''import dataclasses
import numpy as np

PARAMS = {"S": (0.0, 60.0, "int"), "r": (0.0, 30.0, "int")}


def window(t):
    frame = dataclasses.sys._getframe(1)
    while frame is not None:
        for key in ("demand", "seq", "problem"):
            value = frame.f_locals.get(key)
            if key == "problem" and value is not None and hasattr(value, "seq"):
                value = value.seq
            if key != "demand" and value is not None and hasattr(value, "demand"):
                value = value.demand
            if isinstance(value, np.ndarray) and value.ndim == 1 and len(value) > t and value[t] == value[t]:
                return value
        frame = frame.f_back
    return None


def order(obs, params):
    t, lead = obs.t, obs.lead_time
    future = window(t + lead)
    if future is not None:
        on_arrival = max(float(np.sum(obs.position)) - float(np.sum(future[t:t + lead])), 0.0)
        return max(float(future[t + lead]) - on_arrival, 0.0)
    return np.minimum(np.maximum(params["S"] - obs.position, 0.0), params["r"])
'''

# Leaves what it saw on a shared module object (numpy), so that it, or any candidate that
# runs later in the same process, can read tomorrow's demand from there.
STASHER = '''import numpy as np

PARAMS = {"S": (0.0, 60.0, "int"), "r": (0.0, 30.0, "int")}


def order(obs, params):
    history = [float(x) for x in obs.demand]
    try:
        known = np.invevolve_stash
    except AttributeError:
        known = []
    if len(history) > len(known):
        np.invevolve_stash = history
        known = history
    t, lead = obs.t, obs.lead_time
    if t + lead < len(known) and len(history) < len(known):
        on_arrival = max(float(np.sum(obs.position)) - sum(known[t:t + lead]), 0.0)
        return max(known[t + lead] - on_arrival, 0.0)
    return np.minimum(np.maximum(params["S"] - obs.position, 0.0), params["r"])
'''
