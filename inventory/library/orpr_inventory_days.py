"""ORPR inventory-days rule (ORPR paper Algorithm 2): every R days order v days of recent mean demand.

On review days (t % R == 0) the order is v * mean(demand over the last `window` days before
today); on other days nothing is ordered. With no history yet (day 0) the mean is 0. The
order does not look at the inventory state: it is the open-loop rule whose replay gives the
stock / loss coefficients of the ORPR OR model. `inventory.orpr.orpr_replay` reproduces this
file's replay bit for bit, so keep the arithmetic below in step with
`inventory.orpr.rolling_mean_orders`.
"""
import numpy as np


def search_space(info):
    r_hi = max(7, info.lead_time + 1)
    return {
        "v": (0.0, float(2 * r_hi)),
        "R": (1, r_hi, "int"),
        "window": (1, max(1, min(28, info.n_days)), "int"),
    }


def order(obs, params):
    past = np.asarray(obs.demand, dtype=float)
    t = len(past)
    cs = np.concatenate([[0.0], np.cumsum(past)])
    k = np.minimum(np.asarray(params["window"], dtype=float), t)
    lo = (t - k).astype(int)
    mean = np.where(k > 0, (cs[t] - cs[lo]) / np.maximum(k, 1), 0.0)
    review = (obs.t % np.asarray(params["R"], dtype=float)) == 0
    return np.where(review, params["v"] * mean, 0.0)
