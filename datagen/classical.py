"""Classical testbed (InvEvolve Sec. 5.3.1): 6 stationary distributions x L x p = 96 scenarios.

Every distribution has mean 5 (the Zipkin 2008 / Xin 2021 setting; SPEC §8 gives exact
optima for Poisson and geometric): geometric on {0,1,..}, Poisson, binomial(10, 1/2),
gamma(2, 2.5) rounded, half-normal with scale 5 sqrt(pi/2) rounded, and discrete uniform on
{0..10}. ``L in {1,2,3,4}``, ``p in {4,9,19,39}``, ``h = 1``. Workspaces have no features.

Sample length (how a 0.5% cost difference is resolved). All policies are scored on the same
sample, so what must be resolved is a *paired* cost difference. For each scenario a pilot of
``pilot_days`` days estimates the long-run variance ``sigma^2`` of two daily cost differences
by batch means (batches of ``batch`` days, which absorbs the autocorrelation inventory
carries), and takes the larger:

- a *neighbouring* pair, base stock ``S*`` against ``S* + 1`` (``S*`` the critical-ratio
  quantile of (L+1)-day demand): how finely one structure's levels are told apart;
- a *structural* pair, the best base stock against the best capped base stock on the first
  ``search_days`` of the pilot: what the suite is for, another structure against CBS. These
  disagree on many days (the cap binds), so their difference varies far more (geometric
  L3 p9: sigma 11.2 against 2.2 for the neighbours, so 54,000 days instead of 2,000).

The required length is::

    n_req = (z * sigma / (resolution * mean_cost))^2       (z = 1.96: 95% half-width)

The forward (test) window gets ``clip(n_req, min_days, max_forward)`` days and the replay
(tuning) window ``clip(n_req, min_days, max_replay)`` days, rounded up to 500. The caps keep
the build and the trusted step-by-step evaluation affordable; ``suite.json`` records, per
scenario, ``n_required``, both sigmas and the 95% half-width actually achieved on each
window, so the scenarios the caps leave unresolved at 0.5% are named rather than hidden.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from datagen.output import prepare_out, write_json, write_workspace_atomic
from datagen.parallel import run_tasks
from datagen.synthetic import initial_state
from inventory.demand_model import DemandModel, parse_demand_model
from inventory.sequence import DemandSequence
from inventory.tuning import TuningConfig
from inventory.workspace import ProblemSpec, WorkspaceSpec

log = logging.getLogger(__name__)

MEAN = 5.0
LEAD_TIMES = (1, 2, 3, 4)
PENALTIES = (4, 9, 19, 39)
HOLDING = 1.0
START = "2000-01-01"

@dataclass(frozen=True)
class Distribution:
    """A testbed law: the workspace declares ``model`` as its ``[demand_model]``, and the
    replay and forward windows are drawn from the same model (so the formal simulation
    mode draws exactly the law the data came from)."""

    name: str
    description: str
    model: DemandModel
    cv: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.model.draw(rng, n)


HN_SCALE = MEAN * math.sqrt(math.pi / 2)


def _law(**table: Any) -> DemandModel:
    return parse_demand_model(table)


DISTRIBUTIONS: tuple[Distribution, ...] = (
    Distribution("geometric", "memoryless, heavy-tailed discrete: P(D=k) = (1/6)(5/6)^k",
                 _law(law="geometric", mean=MEAN), math.sqrt(MEAN * (MEAN + 1)) / MEAN),
    Distribution("poisson", "classical count data, equi-dispersed: Poisson(5)", _law(law="poisson", mean=MEAN),
                 1 / math.sqrt(MEAN)),
    Distribution("binomial", "bounded, low variance: Binomial(10, 0.5)", _law(law="binomial", n=10, prob=0.5),
                 math.sqrt(2.5) / MEAN),
    Distribution("gamma", "moderate tail, continuous-rounded: round(Gamma(shape 2, scale 2.5))",
                 _law(law="gamma", shape=2.0, scale=2.5, round=True), 1 / math.sqrt(2)),
    Distribution("halfnormal", "folded normal, moderate variance: round(|N(0, 6.27^2)|)",
                 _law(law="halfnormal", scale=HN_SCALE, round=True), math.sqrt(math.pi / 2 - 1)),
    Distribution("uniform", "bounded, equi-dispersed: uniform on {0, ..., 10}",
                 _law(law="uniform", low=0, high=10), math.sqrt(10.0) / MEAN),
)


@dataclass(frozen=True)
class ClassicalConfig:
    seed: int = 0
    resolution: float = 0.005
    z: float = 1.96
    pilot_days: int = 50_000
    search_days: int = 20_000  # of the pilot, to find the structural pair's two policies
    batch: int = 500
    min_days: int = 2_000
    max_replay: int = 10_000
    max_forward: int = 60_000
    tuning: TuningConfig = field(default_factory=TuningConfig)


@dataclass(frozen=True)
class Scenario:
    index: int
    dist: Distribution
    lead_time: int
    p: int

    @property
    def name(self) -> str:
        return f"classical_{self.dist.name}_L{self.lead_time}_p{self.p}"


def scenarios() -> list[Scenario]:
    """The 96 scenarios in a fixed order (distribution, L, p)."""
    out = []
    for d in DISTRIBUTIONS:
        for L in LEAD_TIMES:
            for p in PENALTIES:
                out.append(Scenario(len(out), d, L, p))
    return out


def cbs_costs(demand: np.ndarray, lead_time: int, h: float, p: float, S: float, r: float = math.inf) -> np.ndarray:
    """Daily costs of capped base stock ``q = min((S - IP)^+, r)`` under the SPEC §1 convention.

    Starts with ``S`` on hand and an empty pipeline. ``r = inf`` is plain base stock.
    """
    return cbs_cost_matrix(demand, lead_time, h, p, np.array([float(S)]), np.array([float(r)]))[0]


def cbs_cost_matrix(demand: np.ndarray, lead_time: int, h: float, p: float, S: np.ndarray,
                    r: np.ndarray) -> np.ndarray:
    """Daily costs of ``k`` capped base-stock policies ``(S[i], r[i])`` on one path: shape ``(k, days)``.

    Vectorised over the policies (common random numbers), one pass over the days.
    """
    S, r = np.asarray(S, dtype=float), np.asarray(r, dtype=float)
    k = len(S)
    on_hand = S.copy()
    pipe = np.zeros((k, max(lead_time, 1)))
    in_pipe = np.zeros(k)
    out = np.empty((k, len(demand)))
    for t, d in enumerate(np.asarray(demand, dtype=float).tolist()):
        slot = t % lead_time if lead_time else 0
        if lead_time:
            arriving = pipe[:, slot].copy()
            on_hand += arriving
            in_pipe -= arriving
        q = np.minimum(np.maximum(S - on_hand - in_pipe, 0.0), r)
        if lead_time:
            pipe[:, slot] = q
            in_pipe += q
        else:
            on_hand += q
        on_hand -= d
        short = on_hand < 0
        out[:, t] = np.where(short, -p * on_hand, h * on_hand)
        on_hand[short] = 0.0
    return out


def batch_means_var(x: np.ndarray, batch: int) -> float:
    """Long-run variance estimate: ``batch *`` variance of non-overlapping batch means."""
    m = len(x) // batch
    if m < 2:
        raise ValueError(f"need at least 2 batches of {batch}, got {len(x)} values")
    means = x[: m * batch].reshape(m, batch).mean(axis=1)
    return float(means.var(ddof=1) * batch)


def _best(costs: np.ndarray) -> int:
    return int(np.argmin(costs.mean(axis=1)))


def structural_pair(d: np.ndarray, sc: Scenario, s_star: float, search_days: int) -> dict[str, float]:
    """The best base stock and the best capped base stock on the first ``search_days`` of the pilot.

    Their paired difference stands for the comparisons the suite is for (another structure
    against CBS): it varies far more than a neighbouring pair of one structure does."""
    head = d[:search_days]
    mean, sd = float(d.mean()), float(d.std())
    bs_levels = np.arange(max(1.0, s_star - 4), s_star + 3)
    bs = bs_levels[_best(cbs_cost_matrix(head, sc.lead_time, HOLDING, sc.p, bs_levels, np.full(len(bs_levels), np.inf)))]
    S_grid, r_grid = np.meshgrid(np.arange(max(1.0, round(0.5 * s_star)), s_star + 3),
                                 np.arange(max(1.0, math.ceil(mean)), math.ceil(mean + 3 * sd) + 1), indexing="ij")
    S_grid, r_grid = S_grid.ravel(), r_grid.ravel()
    i = _best(cbs_cost_matrix(head, sc.lead_time, HOLDING, sc.p, S_grid, r_grid))
    return {"bs_S": float(bs), "cbs_S": float(S_grid[i]), "cbs_r": float(r_grid[i])}


def required_length(sc: Scenario, cfg: ClassicalConfig) -> dict[str, float]:
    """Pilot estimate of the days needed to resolve ``cfg.resolution`` (see module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 7, sc.index]))
    d = sc.dist.sample(rng, cfg.pilot_days).astype(float)
    totals = np.convolve(d, np.ones(sc.lead_time + 1), mode="valid")
    s_star = float(np.quantile(totals, sc.p / (sc.p + HOLDING)))
    pair = structural_pair(d, sc, s_star, min(cfg.search_days, cfg.pilot_days))
    S = np.array([s_star, s_star + 1, pair["bs_S"], pair["cbs_S"]])
    r = np.array([np.inf, np.inf, np.inf, pair["cbs_r"]])
    c = cbs_cost_matrix(d, sc.lead_time, HOLDING, sc.p, S, r)
    sigma_neighbour = math.sqrt(batch_means_var(c[0] - c[1], cfg.batch))
    sigma_structural = math.sqrt(batch_means_var(c[2] - c[3], cfg.batch))
    sigma = max(sigma_neighbour, sigma_structural)
    mean_cost = float(c[0].mean())
    n_req = (cfg.z * sigma / (cfg.resolution * mean_cost)) ** 2
    return {"S_star": s_star, "mean_cost": mean_cost, "sigma_pair": sigma, "sigma_neighbour": sigma_neighbour,
            "sigma_structural": sigma_structural, **pair, "n_required": int(math.ceil(n_req))}


def _round_up(n: float, step: int = 500) -> int:
    return int(math.ceil(n / step) * step)


def half_width(pilot: dict[str, float], n: int, z: float) -> float:
    """95% half-width of the paired mean difference, relative to mean cost, for ``n`` days."""
    return z * pilot["sigma_pair"] / (pilot["mean_cost"] * math.sqrt(n))


def _build_one(task: tuple[Path, Scenario, ClassicalConfig]) -> dict[str, Any]:
    out, sc, cfg = task
    pilot = required_length(sc, cfg)
    n_rep = _round_up(min(max(pilot["n_required"], cfg.min_days), cfg.max_replay))
    n_fwd = _round_up(min(max(pilot["n_required"], cfg.min_days), cfg.max_forward))
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 6, sc.index]))
    demand = sc.dist.sample(rng, n_rep + n_fwd).astype(float)
    dates = [str(d) for d in np.datetime64(START, "D") + np.arange(n_rep + n_fwd)]
    seq = DemandSequence(dates, demand, {})
    replay, forward = seq.slice(0, n_rep), seq.slice(n_rep, n_rep + n_fwd)
    problem = ProblemSpec(
        name=sc.name, domain="Classical testbed", item=f"{sc.dist.name} demand, mean 5, i.i.d.", h=HOLDING,
        p=float(sc.p), lead_time=sc.lead_time, replay_days=n_rep, forward_days=n_fwd, unit="count",
        context=f"Stationary i.i.d. demand ({sc.dist.description}); single sourcing, lost sales, no features.",
    )
    write_workspace_atomic(out / sc.name, WorkspaceSpec(problem, initial_state(replay, sc.lead_time, False), (),
                                                        sc.dist.model), replay, forward, tuning=cfg.tuning)
    return {"name": sc.name, "distribution": sc.dist.name, "lead_time": sc.lead_time, "p": sc.p, "h": HOLDING,
            "cv": sc.dist.cv, "replay_days": n_rep, "forward_days": n_fwd, **pilot,
            "half_width_replay": half_width(pilot, n_rep, cfg.z), "half_width_forward": half_width(pilot, n_fwd, cfg.z)}


def build_classical(out: str | Path, cfg: ClassicalConfig = ClassicalConfig(), *, force: bool = False,
                    workers: int = 2, progress: bool = True, only: list[int] | None = None) -> dict[str, Any]:
    """Write the 96 scenarios (or the ``only`` indices) to ``out``; returns the suite index."""
    t0 = time.perf_counter()
    root = prepare_out(out, force)
    todo = [s for s in scenarios() if only is None or s.index in only]
    rows = run_tasks(_build_one, [(root, s, cfg) for s in todo], workers=workers, desc="classical", progress=progress)
    unresolved = [r["name"] for r in rows if r["half_width_forward"] > cfg.resolution]
    index = {"suite": "classical", "seed": cfg.seed, "config": {k: v for k, v in asdict(cfg).items()},
             "unresolved_forward": unresolved, "workspaces": rows}
    write_json(root / "suite.json", index)
    log.info("classical: %d workspaces in %.1f s; %d scenarios capped above %.2f%% resolution on the forward window",
             len(rows), time.perf_counter() - t0, len(unresolved), 100 * cfg.resolution)
    return index
