"""Capped base stock (Xin 2021): order up to S, but never more than r per day."""
import numpy as np


def search_space(info):
    top = (info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand
    cap = max(info.max_demand, 4 * info.mean_demand, 1.0)
    return {"S": (0.0, max(top, 1.0)), "r": (0.0, cap)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r"])
