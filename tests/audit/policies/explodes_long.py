"""Planted fault: the order-up-to level creeps up with the day index (fine for 100 days, not 1000)."""
PARAMS = {"S": (0.0, 60.0)}


def order(obs, params):
    return max(params["S"] * 1.005 ** obs.t - obs.position, 0.0)
