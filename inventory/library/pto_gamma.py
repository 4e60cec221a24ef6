"""PTO_gamma (ORPR paper Sec. 4.2.1): periodic order-up-to the p/(p+h) quantile of Gamma((R+L) k, theta).

Every R days (t % R == 0) order up to S, where daily demand is fitted by moments over the
last `window` days (k = mean^2 / var, theta = var / mean, sample variance) and S is the
critical-ratio quantile of the (R + L)-day total, Gamma((R + L) k, theta). With zero mean
or variance the demand is treated as deterministic: S = mean * (R + L). The quantile is
computed here with numpy only (series / continued fraction for the regularised incomplete
gamma, Halley refinement as in Numerical Recipes' invgammp; Wilson-Hilferty for shape
above 1e5). The critical ratio is clipped to [1e-9, 1 - 1e-9].
"""
import math
from statistics import NormalDist

import numpy as np

_EPS = 1e-15
_FPMIN = 1e-300


def search_space(info):
    r_hi = max(7, info.lead_time + 1)
    return {"R": (1, r_hi, "int"), "window": (2, max(2, info.n_days), "int")}


def _lgamma(a):
    return np.array([math.lgamma(float(v)) for v in np.ravel(a)]).reshape(np.shape(a))


def _gammp(a, x):
    """Regularised lower incomplete gamma P(a, x) elementwise, a > 0, x >= 0 (1-D arrays)."""
    out = np.zeros(len(a))
    gln = _lgamma(a)
    ser = (x > 0) & (x < a + 1)
    cf = (x > 0) & ~ser
    if ser.any():
        aa, xx = a[ser], x[ser]
        ap = aa.copy()
        s = 1.0 / aa
        dl = s.copy()
        for _ in range(20000):
            ap = ap + 1.0
            dl = dl * xx / ap
            s = s + dl
            if np.all(np.abs(dl) < np.abs(s) * _EPS):
                break
        out[ser] = s * np.exp(-xx + aa * np.log(xx) - gln[ser])
    if cf.any():
        aa, xx = a[cf], x[cf]
        b = xx + 1.0 - aa
        c = np.full(len(aa), 1.0 / _FPMIN)
        d = 1.0 / b
        h = d.copy()
        for i in range(1, 20000):
            an = -i * (i - aa)
            b = b + 2.0
            d = an * d + b
            d = np.where(np.abs(d) < _FPMIN, _FPMIN, d)
            c = b + an / c
            c = np.where(np.abs(c) < _FPMIN, _FPMIN, c)
            d = 1.0 / d
            de = d * c
            h = h * de
            if np.all(np.abs(de - 1.0) <= _EPS):
                break
        out[cf] = 1.0 - np.exp(-xx + aa * np.log(xx) - gln[cf]) * h
    return out


def _gamma_ppf(p, a):
    """Quantile p (0 < p < 1, scalar) of Gamma(a, 1) for a 1-D array of shapes a > 0."""
    a = np.asarray(a, dtype=float)
    z = NormalDist().inv_cdf(p)
    big = a > 1e5
    x = np.empty(len(a))
    with np.errstate(all="ignore"):
        x[big] = a[big] * (1.0 - 1.0 / (9.0 * a[big]) + z / (3.0 * np.sqrt(a[big]))) ** 3
        idx = np.flatnonzero(~big)
        if len(idx) == 0:
            return x
        a_ = a[idx]
        gln = _lgamma(a_)
        a1 = a_ - 1.0
        gt1 = a_ > 1.0
        lna1 = np.where(gt1, np.log(np.where(gt1, a1, 1.0)), 0.0)
        afac = np.where(gt1, np.exp(a1 * (lna1 - 1.0) - gln), 0.0)
        x_gt = np.maximum(1e-3, a_ * (1.0 - 1.0 / (9.0 * a_) + z / (3.0 * np.sqrt(a_))) ** 3)
        tt = 1.0 - a_ * (0.253 + a_ * 0.12)
        x_le = np.where(p < tt, (p / tt) ** (1.0 / a_), 1.0 - np.log(1.0 - (p - tt) / (1.0 - tt)))
        xi = np.where(gt1, x_gt, x_le)
        active = np.ones(len(a_), dtype=bool)
        for _ in range(30):
            if not active.any():
                break
            j = np.flatnonzero(active)
            xj, aj = xi[j], a_[j]
            err = _gammp(aj, xj) - p
            dens = np.where(gt1[j], afac[j] * np.exp(-(xj - a1[j]) + a1[j] * (np.log(xj) - lna1[j])),
                            np.exp(-xj + a1[j] * np.log(xj) - gln[j]))
            u = err / dens
            step = u / (1.0 - 0.5 * np.minimum(1.0, u * ((aj - 1.0) / xj - 1.0)))
            xn = xj - step
            xn = np.where(xn <= 0.0, 0.5 * (xj + 0.0), xn)
            xi[j] = xn
            active[j] = np.abs(step) >= 1e-12 * xn
        x[idx] = xi
    return x


def order(obs, params):
    past = np.asarray(obs.demand, dtype=float)
    t = len(past)
    window = np.atleast_1d(np.asarray(params["window"], dtype=float))
    R = np.atleast_1d(np.asarray(params["R"], dtype=float))
    window, R = np.broadcast_arrays(window, R)
    cs = np.concatenate([[0.0], np.cumsum(past)])
    cs2 = np.concatenate([[0.0], np.cumsum(past * past)])
    k = np.minimum(window, t)
    lo = (t - k).astype(int)
    kk = np.maximum(k, 1)
    mean = np.where(k > 0, (cs[t] - cs[lo]) / kk, 0.0)
    var = np.maximum(np.where(k > 1, (cs2[t] - cs2[lo] - kk * mean * mean) / np.maximum(k - 1, 1), 0.0), 0.0)
    span = R + obs.lead_time
    level = mean * span
    fit = (mean > 0) & (var > 1e-12 * np.maximum(mean * mean, 1.0))
    if fit.any():
        ratio = min(max(obs.p / (obs.p + obs.h), 1e-9), 1.0 - 1e-9)
        shape = mean[fit] ** 2 / var[fit]
        theta = var[fit] / mean[fit]
        level[fit] = theta * _gamma_ppf(ratio, span[fit] * shape)
    review = (obs.t % R) == 0
    return np.where(review, np.maximum(level - obs.position, 0.0), 0.0)
