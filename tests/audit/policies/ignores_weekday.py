"""Planted fault: reads today's date (a weekday rule, it says) and never uses it."""
PARAMS = {"S": (0.0, 60.0)}


def order(obs, params):
    today = obs.date
    return max(params["S"] - obs.position, 0.0)
