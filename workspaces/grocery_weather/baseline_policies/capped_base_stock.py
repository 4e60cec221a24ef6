"""Capped base stock (Xin 2021): order up to S, but never more than r per day."""
import numpy as np


def search_space(info):
    top = max((info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand, 1.0)
    cap = max(info.max_demand, 4 * info.mean_demand, 1.0)
    if info.integer:  # whole units: every distinct policy has integer S and r (tuned exactly)
        return {"S": (0, int(np.ceil(top)), "int"), "r": (0, int(np.ceil(cap)), "int")}
    return {"S": (0.0, top), "r": (0.0, cap)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r"])
