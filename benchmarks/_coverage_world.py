"""Workspaces with a known truth for ``benchmarks/certify_coverage.py``.

A :class:`Process` draws a replay window, independent continuations of it (for the truth
and, separately, for the formal simulation mode) from one generative model. Every policy
in the pool is one parameter set of a single vectorised policy family, so the real
simulator (``inventory.simulator.simulate``) replays the whole pool, and every tuning grid,
in one call:

    level = a + b (L+1) MA14 + c * promos in the next L+1 days + w[weekday]
    q     = min((level - IP)^+, r + g (level - IP)^+)

Structures fix some parameters "off" and tune the others by grid search (the benchmark's
stand-in for Optuna; the walk-forward schedule is ``evaluation.walkforward``'s).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from evaluation.walkforward import Plan, cross_fit_plan, out_of_sample, walk_forward_plan
from inventory.policy import compile_policy
from inventory.sequence import Availability, CostModel, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState, simulate

N_DAYS, HORIZON, LEAD, H, P = 120, 30, 2, 1.0, 9.0
D_CAP = 60.0     # every process clips demand here: the sampler's declared support
PROMO = FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, LEAD + 1)
FAMILY = '''
import numpy as np
PARAMS = {"a": (0, 1), "b": (0, 1), "c": (0, 1), "r": (0, 1), "g": (0, 1),
          "w0": (0, 1), "w1": (0, 1), "w2": (0, 1), "w3": (0, 1), "w4": (0, 1), "w5": (0, 1), "w6": (0, 1)}

def order(obs, params):
    past = obs.demand[-14:]
    ma = float(past.mean()) if len(past) else 0.0
    promo = obs.features["promo"][obs.t:obs.t + obs.lead_time + 1]
    level = (params["a"] + params["b"] * (obs.lead_time + 1) * ma + params["c"] * float(promo.sum())
             + params["w" + str(obs.t % 7)])
    gap = np.maximum(level - obs.position, 0.0)
    return np.minimum(gap, params["r"] + params["g"] * gap)
'''
OFF = {"a": 0.0, "b": 0.0, "c": 0.0, "r": 1e9, "g": 0.0, **{f"w{d}": 0.0 for d in range(7)}}


class Process(ABC):
    """A demand process: a replay path and continuations drawn from the true conditional law."""

    @abstractmethod
    def replay(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, object]:
        """(demand, promo, end state) over the replay window."""

    @abstractmethod
    def continue_(self, rng: np.random.Generator, state: object, days: int) -> tuple[np.ndarray, np.ndarray]:
        """(demand, promo) for ``days`` days after the window, given its end state."""


def _draw(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    # Poisson-gamma (negative binomial, shape 4): over-dispersed like retail demand.
    return np.minimum(rng.poisson(rng.gamma(4.0, np.asarray(mean) / 4.0)), D_CAP).astype(float)


class Stationary(Process):
    def replay(self, rng):
        return _draw(rng, np.full(N_DAYS, 8.0)), np.zeros(N_DAYS), None

    def continue_(self, rng, state, days):
        return _draw(rng, np.full(days, 8.0)), np.zeros(days)


class Drifting(Process):
    """Mean grows linearly from 5 to 12 over replay + horizon days, and keeps growing."""

    def _mean(self, t: np.ndarray) -> np.ndarray:
        return 5.0 + 7.0 * t / (N_DAYS + HORIZON)

    def replay(self, rng):
        return _draw(rng, self._mean(np.arange(N_DAYS))), np.zeros(N_DAYS), None

    def continue_(self, rng, state, days):
        return _draw(rng, self._mean(np.arange(N_DAYS, N_DAYS + days))), np.zeros(days)


class RegimeSwitching(Process):
    """Hidden two-state Markov chain (means 4 and 12, stays with probability 0.97)."""

    def _path(self, rng, start, days):
        states = np.empty(days, dtype=int)
        s = start
        for t in range(days):
            if rng.random() > 0.97:
                s = 1 - s
            states[t] = s
        return states

    def replay(self, rng):
        states = self._path(rng, int(rng.integers(2)), N_DAYS)
        return _draw(rng, np.where(states == 1, 12.0, 4.0)), np.zeros(N_DAYS), int(states[-1])

    def continue_(self, rng, state, days):
        states = self._path(rng, state, days)
        return _draw(rng, np.where(states == 1, 12.0, 4.0)), np.zeros(days)


class PromotionDriven(Process):
    """Weekly pattern, and planned promotions (15% of days, known L+1 days ahead) that triple demand."""

    WEEK = np.array([0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 0.8])

    def _days(self, rng, start, days):
        promo = (rng.random(days) < 0.15).astype(float)
        mean = 5.0 * self.WEEK[(start + np.arange(days)) % 7] * (1.0 + 2.0 * promo)
        return _draw(rng, mean), promo

    def replay(self, rng):
        d, promo = self._days(rng, 0, N_DAYS)
        return d, promo, None

    def continue_(self, rng, state, days):
        return self._days(rng, N_DAYS, days)


PROCESSES: dict[str, Process] = {"stationary": Stationary(), "drifting": Drifting(),
                                 "regime": RegimeSwitching(), "promotion": PromotionDriven()}


@dataclass(frozen=True)
class Structure:
    name: str
    baseline: bool
    grid: "callable"          # (mean demand of the tuning days, rng) -> dict of arrays


def _mesh(**axes: np.ndarray) -> dict[str, np.ndarray]:
    grids = np.meshgrid(*axes.values(), indexing="ij")
    return {k: g.ravel() for k, g in zip(axes, grids)}


def _level(mu: float, k: int) -> np.ndarray:
    return np.linspace(0.0, 4.0 * (LEAD + 1) * max(mu, 0.5), k)


STRUCTURES: tuple[Structure, ...] = (
    Structure("base_stock", True, lambda mu, rng: _mesh(a=_level(mu, 60))),
    Structure("capped_base_stock", True, lambda mu, rng: _mesh(a=_level(mu, 25), r=np.linspace(0.5, 4, 12) * mu)),
    Structure("constant_order", True, lambda mu, rng: _mesh(a=np.array([1e9]), r=np.linspace(0, 3, 60) * mu)),
    Structure("ma_order_up_to", True, lambda mu, rng: _mesh(b=np.linspace(0.5, 2.5, 41))),
    Structure("tilted_cbs", False, lambda mu, rng: _mesh(a=_level(mu, 15), r=np.linspace(0.5, 4, 8) * mu,
                                                          g=np.linspace(0, 1, 5))),
    Structure("ma_cbs", False, lambda mu, rng: _mesh(b=np.linspace(0.5, 2.5, 15), r=np.linspace(0.5, 4, 10) * mu)),
    Structure("promo_base_stock", False, lambda mu, rng: _mesh(a=_level(mu, 20), c=np.linspace(0, 4, 15) * mu)),
    Structure("promo_ma", False, lambda mu, rng: _mesh(b=np.linspace(0.5, 2.5, 15), c=np.linspace(0, 4, 15) * mu)),
    Structure("weekday_base_stock", False, lambda mu, rng: {
        "a": rng.uniform(0, 4 * (LEAD + 1) * max(mu, 0.5), 400),
        **{f"w{d}": rng.uniform(-mu, mu, 400) for d in range(7)}}),
)
N_LUCKY = 3


@dataclass
class World:
    """One replication: the pool's in-sample, walk-forward, cross-fit and replication costs."""

    members: list[str]
    reference: str
    in_sample: dict[str, np.ndarray]
    walk_forward: dict[str, np.ndarray]
    cross_fit: dict[str, np.ndarray]
    replication_costs: dict[str, np.ndarray]
    truth: dict[str, float]
    truth_se: dict[str, float]
    wf_plan: Plan
    cf_plan: Plan
    bound: float
    sim_bound: float
    n_days: int = N_DAYS
    lead_time: int = LEAD
    deployed: dict[str, dict[str, float]] = field(default_factory=dict)


class _Pool:
    """Batched replays of parameter sets of the family on one process's sequences."""

    def __init__(self, demand: np.ndarray, promo: np.ndarray):
        self.program = compile_policy(FAMILY, "family")
        self.model = CostModel(H, P, LEAD)
        self.demand, self.promo = demand, promo
        self.init = InitialState(8.0 * (LEAD + 1), (8.0,) * LEAD)

    def seq(self, demand: np.ndarray, promo: np.ndarray) -> DemandSequence:
        return DemandSequence([str(i) for i in range(len(demand))], demand, {"promo": promo})

    def costs(self, rows: list[dict[str, float]], demand: np.ndarray, promo: np.ndarray) -> np.ndarray:
        batch = {k: np.array([r[k] for r in rows], dtype=float) for k in OFF}
        return simulate(self.program, self.seq(demand, promo), (PROMO,), self.model, batch, init=self.init).costs

    def tune(self, days: slice, rng_seed: int) -> dict[str, dict[str, float]]:
        """Grid-tune every tunable structure on ``days`` only; one replay for all grids."""
        d, pr = self.demand[days], self.promo[days]
        mu = float(d.mean())
        rng = np.random.default_rng(rng_seed)
        rows, owner = [], []
        for s in STRUCTURES:
            grid = s.grid(mu, rng)
            size = len(next(iter(grid.values())))
            rows += [{**OFF, **{k: float(v[i]) for k, v in grid.items()}} for i in range(size)]
            owner += [s.name] * size
        means = self.costs(rows, d, pr).mean(axis=1)
        owner_arr = np.array(owner)
        best = {}
        for s in STRUCTURES:
            idx = np.flatnonzero(owner_arr == s.name)
            best[s.name] = rows[int(idx[np.argmin(means[idx])])]
        return best


def build_world(process_name: str, seed: int, *, paths: int = 100, replications: int = 40) -> World:
    rng = np.random.default_rng(seed)
    proc = PROCESSES[process_name]
    demand, promo, state = proc.replay(rng)
    pool = _Pool(demand, promo)
    full = pool.tune(slice(0, N_DAYS), seed)
    # "Lucky" members: constants fitted on the whole window (best of 40 random weekday
    # tilts of the tuned CBS), then frozen; walk-forward cannot re-tune them.
    cbs = full["capped_base_stock"]
    mu = float(demand.mean())
    lucky = {}
    for j in range(N_LUCKY):
        tries = [{**cbs, **{f"w{d}": float(rng.normal(0, 0.4 * mu)) for d in range(7)}} for _ in range(40)]
        lucky[f"lucky_{j}"] = tries[int(np.argmin(pool.costs(tries, demand, promo).mean(axis=1)))]
    deployed = {**full, **lucky}
    members = list(deployed)
    rows = [deployed[m] for m in members]
    in_sample_costs = pool.costs(rows, demand, promo)
    in_sample = dict(zip(members, in_sample_costs))

    def oos(plan: Plan) -> dict[str, np.ndarray]:
        tuned: dict[int, dict[str, dict[str, float]]] = {}

        def tune_for(member):
            def tune(days):
                key = days.start * 10_000 + days.stop
                if member in lucky:
                    return lucky[member]
                if key not in tuned:
                    tuned[key] = pool.tune(days, seed + key)
                return tuned[key][member]
            return tune
        out = {}
        for m in members:
            out[m] = out_of_sample(tune_for(m), lambda params, stop: pool.costs(
                [dict(params)], demand[:stop], promo[:stop])[0], plan).costs
        return out

    wf_plan, cf_plan = walk_forward_plan(N_DAYS, HORIZON), cross_fit_plan(N_DAYS)
    reference = min((s.name for s in STRUCTURES if s.baseline), key=lambda m: in_sample[m].mean())
    truth_paths = np.empty((paths, len(members)))
    for i in range(paths):
        d, pr = proc.continue_(rng, state, HORIZON)
        c = pool.costs(rows, np.r_[demand, d], np.r_[promo, pr])
        truth_paths[i] = c[:, N_DAYS:].mean(axis=1)
    reps = np.empty((replications, len(members)))
    for i in range(replications):
        d, pr = proc.continue_(rng, state, HORIZON)
        reps[i] = pool.costs(rows, np.r_[demand, d], np.r_[promo, pr])[:, N_DAYS:].mean(axis=1)
    truth = dict(zip(members, truth_paths.mean(axis=0).tolist()))
    truth_se = {m: float((truth_paths[:, j] - truth_paths[:, members.index(reference)]).std(ddof=1)
                         / np.sqrt(paths)) for j, m in enumerate(members)}
    d_max = float(demand.max())
    return World(members, reference, in_sample, oos(wf_plan), oos(cf_plan),
                 dict(zip(members, reps.T)), truth, truth_se, wf_plan, cf_plan,
                 bound=H * (LEAD + 2) * d_max + P * d_max,
                 sim_bound=_sim_bound(pool, rows, demand, promo), deployed=deployed)


def _sim_bound(pool: _Pool, rows: list[dict[str, float]], demand: np.ndarray, promo: np.ndarray) -> float:
    """B for the formal mode, fixed before any replication is drawn: h * I + p * D_cap.

    I caps on-hand over a replication for every member: an order-up-to rule never lifts
    the position above max(position at the window's end, its highest level), a constant
    order adds at most r a day. Demand never exceeds the process's declared support D_cap.
    """
    batch = {k: np.array([r[k] for r in rows], dtype=float) for k in OFF}
    res = simulate(pool.program, pool.seq(demand, promo), (PROMO,), pool.model, batch, init=pool.init)
    position_end = res.on_hand_end[:, -1] + res.orders[:, -LEAD:].sum(axis=1)
    caps = []
    for r, ip in zip(rows, position_end):
        if r["a"] >= 1e8:
            caps.append(ip + r["r"] * HORIZON)
        else:
            top = r["a"] + r["b"] * (LEAD + 1) * D_CAP + r["c"] * (LEAD + 1) + max(r[f"w{d}"] for d in range(7))
            caps.append(max(ip, top))
    return H * max(caps) + P * D_CAP
