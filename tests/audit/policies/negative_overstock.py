"""Planted fault: order-up-to S, but in overstock states (position >= 40, which no tuning or
replay path reaches with S <= 30) it returns S - position, a negative order."""
PARAMS = {"S": (0.0, 30.0)}


def order(obs, params):
    if obs.position >= 40.0:
        return params["S"] - obs.position
    return max(params["S"] - obs.position, 0.0)
