"""Planted fault: order-up-to with a bonus once the position is comfortable (not monotone)."""
PARAMS = {"S": (0.0, 60.0)}


def order(obs, params):
    gap = max(params["S"] - obs.position, 0.0)
    bonus = 6.0 if obs.position > params["S"] / 2 else 0.0
    return gap + bonus
