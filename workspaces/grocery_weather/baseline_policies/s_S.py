"""(s, S): when the inventory position falls to s or below, order up to S = s + d."""
import numpy as np


def search_space(info):
    top = max((info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand, 1.0)
    if info.integer:  # whole units: every distinct policy has integer s and d
        return {"s": (0, int(np.ceil(top)), "int"), "d": (0, int(np.ceil(top)), "int")}
    return {"s": (0.0, top), "d": (0.0, top)}


def order(obs, params):
    up_to = params["s"] + params["d"]
    return np.where(obs.position <= params["s"], np.maximum(up_to - obs.position, 0.0), 0.0)
