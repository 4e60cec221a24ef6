"""PTO_normal (ORPR paper Sec. 4.2.1): periodic order-up-to S = mu (R+L) + z sigma sqrt(R+L).

Every R days (t % R == 0) order up to S, with mu and sigma the mean and sample standard
deviation of daily demand over the last `window` days and z = Phi^{-1}(p / (p + h)).
R + L is the protection interval under this simulator's timing (order before the day's
demand, arrival L days later). The critical ratio is clipped to [1e-9, 1 - 1e-9].
"""
from statistics import NormalDist

import numpy as np


def search_space(info):
    r_hi = max(7, info.lead_time + 1)
    return {"R": (1, r_hi, "int"), "window": (2, max(2, info.n_days), "int")}


def _moments(past, window):
    t = len(past)
    cs = np.concatenate([[0.0], np.cumsum(past)])
    cs2 = np.concatenate([[0.0], np.cumsum(past * past)])
    k = np.minimum(window, t)
    lo = (t - k).astype(int)
    kk = np.maximum(k, 1)
    mean = np.where(k > 0, (cs[t] - cs[lo]) / kk, 0.0)
    var = np.where(k > 1, (cs2[t] - cs2[lo] - kk * mean * mean) / np.maximum(k - 1, 1), 0.0)
    return mean, np.maximum(var, 0.0)


def order(obs, params):
    past = np.asarray(obs.demand, dtype=float)
    mean, var = _moments(past, np.asarray(params["window"], dtype=float))
    R = np.asarray(params["R"], dtype=float)
    span = R + obs.lead_time
    ratio = min(max(obs.p / (obs.p + obs.h), 1e-9), 1.0 - 1e-9)
    z = NormalDist().inv_cdf(ratio)
    level = mean * span + z * np.sqrt(var) * np.sqrt(span)
    review = (obs.t % R) == 0
    return np.where(review, np.maximum(level - obs.position, 0.0), 0.0)
