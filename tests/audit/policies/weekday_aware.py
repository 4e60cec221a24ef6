"""Clean weekday rule: order up to a multiple of today's weekday mean, learned from the history."""
import numpy as np

PARAMS = {"a": (0.5, 4.0)}


def order(obs, params):
    history = np.asarray(obs.demand, dtype=float)
    span = obs.lead_time + 1
    if len(history) < 14:
        return max(params["a"] * 6.0 * span - obs.position, 0.0)
    today = (int(np.datetime64(obs.date, "D").astype(np.int64)) + 3) % 7
    weekday = (today - (len(history) - np.arange(len(history)))) % 7
    level = params["a"] * history[weekday == today].mean() * span
    return max(level - obs.position, 0.0)
