"""Constant order: the same quantity r every day, whatever the state."""
import numpy as np


def search_space(info):
    return {"r": (0.0, max(2 * info.mean_demand + info.std_demand, 1.0))}


def order(obs, params):
    return params["r"] + 0.0 * np.asarray(obs.position)
