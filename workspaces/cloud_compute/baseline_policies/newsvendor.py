"""Newsvendor: order up to scale x the p/(p+h) quantile of past (L+1)-day demand totals."""
import numpy as np


def search_space(info):
    return {"scale": (0.5, 2.5)}


def order(obs, params):
    span = obs.lead_time + 1
    past = np.asarray(obs.demand, dtype=float)
    if len(past) == 0:
        level = 0.0
    elif len(past) < span + 1:
        level = span * past.mean()
    else:
        totals = np.convolve(past, np.ones(span), mode="valid")
        level = np.quantile(totals, obs.p / (obs.p + obs.h))
    return np.maximum(params["scale"] * level - obs.position, 0.0)
