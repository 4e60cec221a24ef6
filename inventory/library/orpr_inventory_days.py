"""ORPR inventory-days rule (ORPR paper Algorithm 2): every R days order in units of v days of recent demand.

On review days (t % R == 0), with `mean` the mean demand of the last `window` days before
today (0 on day 0):
- target = 0 (SPEC §7 literal): order v * mean, whatever the stock (open loop);
- target = 1 (days-of-cover target): order up to v * mean, i.e. (v * mean - position)^+.
On other days nothing is ordered. `orpr.simulator.orpr_replay` reproduces this file's
replay bit for bit, so keep the arithmetic below in step with `orpr.simulator`.
"""
import numpy as np


def search_space(info):
    r_hi = max(7, info.lead_time + 1)
    return {
        "v": (0.0, float(4 * r_hi)),
        "R": (1, r_hi, "int"),
        "window": (1, max(1, min(28, info.n_days)), "int"),
        "target": (0, 1, "int"),
    }


def order(obs, params):
    past = np.asarray(obs.demand, dtype=float)
    t = len(past)
    cs = np.concatenate([[0.0], np.cumsum(past)])
    k = np.minimum(np.asarray(params["window"], dtype=float), t)
    lo = (t - k).astype(int)
    mean = np.where(k > 0, (cs[t] - cs[lo]) / np.maximum(k, 1), 0.0)
    cover = params["v"] * mean
    q = np.where(np.asarray(params["target"], dtype=float) > 0.5, np.maximum(cover - obs.position, 0.0), cover)
    review = (obs.t % np.asarray(params["R"], dtype=float)) == 0
    return np.where(review, q, 0.0)
