"""Tilted capped base stock: q = min(gap, r0 + gamma * gap), gap = (S - IP)^+ (gamma = 0 is CBS)."""
import numpy as np


def search_space(info):
    top = max((info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand, 1.0)
    cap = max(info.max_demand, 4 * info.mean_demand, 1.0)
    S, r0 = ((0, int(np.ceil(top)), "int"), (0, int(np.ceil(cap)), "int")) if info.integer else ((0.0, top), (0.0, cap))
    return {"S": S, "r0": r0, "gamma": (0.0, 1.0)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r0"] + params["gamma"] * gap)
