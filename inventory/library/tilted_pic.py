"""Tilted proportional inventory control: q = min(round(k * gap), r0 + gamma * gap) (k = 1 is Tilted-CBS)."""
import numpy as np


def search_space(info):
    top = (info.lead_time + 1) * (info.mean_demand + 3 * info.std_demand) + info.max_demand
    cap = max(info.max_demand, 4 * info.mean_demand, 1.0)
    return {"S": (0.0, max(top, 1.0)), "k": (0.2, 1.5), "r0": (0.0, cap), "gamma": (0.0, 1.0)}


def order(obs, params):
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(np.round(params["k"] * gap), params["r0"] + params["gamma"] * gap)
