"""Base stock: order up to a constant level S on the inventory position."""
import numpy as np


def search_space(info):
    top = max((info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand, 1.0)
    if info.integer:  # whole units: every distinct policy has an integer S
        return {"S": (0, int(np.ceil(top)), "int")}
    return {"S": (0.0, top)}


def order(obs, params):
    return np.maximum(params["S"] - obs.position, 0.0)
