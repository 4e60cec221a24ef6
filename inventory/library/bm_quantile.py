"""BM_x (ORPR paper Sec. 4.2.1): periodic order-up-to the x-th percentile of past (R+L)-day demand.

Every R days (t % R == 0) order up to S = the x-th percentile (linear interpolation) of all
past rolling (R + L)-day demand totals; with fewer than R + L + 1 days of history,
S = (R + L) * mean past demand (0 on day 0).
"""
import numpy as np


def search_space(info):
    r_hi = max(7, info.lead_time + 1)
    return {"x": (1.0, 99.0), "R": (1, r_hi, "int")}


def order(obs, params):
    past = np.asarray(obs.demand, dtype=float)
    t = len(past)
    R, x = np.broadcast_arrays(np.atleast_1d(np.asarray(params["R"], dtype=float)),
                               np.atleast_1d(np.asarray(params["x"], dtype=float)))
    span = R + obs.lead_time
    level = np.zeros(span.shape)
    for s in np.unique(span):
        rows = span == s
        if t == 0:
            level[rows] = 0.0
        elif t < s + 1:
            level[rows] = s * past.mean()
        else:
            totals = np.convolve(past, np.ones(int(s)), mode="valid")
            level[rows] = np.quantile(totals, x[rows] / 100.0)
    review = (obs.t % R) == 0
    return np.where(review, np.maximum(level - obs.position, 0.0), 0.0)
