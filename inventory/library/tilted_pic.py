"""Tilted proportional inventory control: q = min(round(k * gap), r0 + gamma * gap) (k = 1 is Tilted-CBS)."""
import numpy as np


def search_space(info):
    top = max((info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand, 1.0)
    cap = max(info.max_demand, 4 * info.mean_demand, 1.0)
    S, r0 = ((0, int(np.ceil(top)), "int"), (0, int(np.ceil(cap)), "int")) if info.integer else ((0.0, top), (0.0, cap))
    return {"S": S, "k": (0.2, 1.5), "r0": r0, "gamma": (0.0, 1.0)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(np.round(params["k"] * gap), params["r0"] + params["gamma"] * gap)
