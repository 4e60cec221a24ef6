"""Small example workspaces shipped in ``workspaces/`` (a simple generator; the full
synthetic suite lives in the rest of :mod:`datagen`).

Each example is a 130-day window (100 replay + 30 forward) of nonstationary demand driven
by declared features, so that a forecast-driven policy has something real to find:

- ``retail_promo``: weekly seasonality, planned promotions (known 14 days ahead), drift.
- ``grocery_weather``: temperature observed on the day, an event shock announced by a note.
- ``spare_parts``: intermittent demand with a maintenance index known a week ahead.
- ``cloud_compute``: continuous load with a trend break and a release calendar.

``python -m datagen.examples --out workspaces`` rebuilds them byte for byte.
"""
from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from inventory.sequence import Availability, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState
from datagen.output import write_workspace_atomic
from inventory.workspace import ProblemSpec, WorkspaceSpec

log = logging.getLogger(__name__)

DAYS, REPLAY = 130, 100


@dataclass(frozen=True)
class Example:
    spec: WorkspaceSpec
    seq: DemandSequence


def _dates(start: str, n: int) -> tuple[list[str], np.ndarray]:
    days = np.datetime64(start) + np.arange(n)
    dow = (days.astype("datetime64[D]").astype(np.int64) + 3) % 7
    return [str(d) for d in days], dow.astype(float)


def _initial(mean: float, lead: int, count: bool) -> InitialState:
    level = round(mean) if count else round(mean, 2)
    return InitialState(float(level * (lead + 1)), tuple(float(level) for _ in range(lead)))


def retail_promo(seed: int) -> Example:
    rng = np.random.default_rng(seed)
    dates, dow = _dates("2024-03-04", DAYS)
    promo = np.zeros(DAYS)
    for start in rng.choice(np.arange(5, DAYS - 4), size=9, replace=False):
        promo[start:start + rng.integers(2, 5)] = 1.0
    price_index = 1.0 + np.cumsum(rng.normal(0, 0.004, DAYS))
    weekly = np.array([0.85, 0.8, 0.9, 1.0, 1.15, 1.4, 1.1])[dow.astype(int)]
    drift = np.linspace(1.0, 1.35, DAYS)
    mu = 18 * weekly * drift * (1 + 1.6 * promo) / price_index
    demand = rng.negative_binomial(12, 12 / (12 + mu))
    feats = {"day_of_week": dow, "promo": promo, "price_index": np.round(price_index, 4)}
    specs = (
        FeatureSpec("day_of_week", FeatureKind.CATEGORICAL, Availability.KNOWN_AHEAD, 60, "0 = Monday"),
        FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 14, "1 on planned promotion days"),
        FeatureSpec("price_index", FeatureKind.NUMERIC, Availability.AFTER_DAY, 0, "shelf price relative to list, published after the day"),
    )
    problem = ProblemSpec("retail_promo", "consumer products", "sparkling water 12-pack", 1.0, 9.0, 2, REPLAY, DAYS - REPLAY,
                          context="A supermarket SKU with weekly shopping peaks and planned price promotions.")
    return Example(WorkspaceSpec(problem, _initial(mu[:7].mean(), 2, True), specs), DemandSequence(dates, demand, feats))


def grocery_weather(seed: int) -> Example:
    rng = np.random.default_rng(seed)
    dates, dow = _dates("2024-05-06", DAYS)
    temp = 18 + 8 * np.sin(np.arange(DAYS) / 20) + np.cumsum(rng.normal(0, 0.6, DAYS)) * 0.3
    notes = np.array([""] * DAYS, dtype=object)
    impact = np.zeros(DAYS)
    for onset, text, size in ((int(rng.integers(20, 45)), "heatwave warning issued", 0.9),
                              (int(rng.integers(60, 118)), "local festival announced", 1.3)):
        notes[onset] = text
        impact[onset:] += size * np.exp(-np.arange(DAYS - onset) / 6.0)
    mu = 30 * (1 + 0.04 * (temp - 18)) * (1 + impact) * np.where(dow >= 5, 1.25, 1.0)
    demand = rng.poisson(np.maximum(mu, 0.5))
    feats = {"temperature": np.round(temp, 2), "event_note": notes, "day_of_week": dow}
    specs = (
        FeatureSpec("temperature", FeatureKind.NUMERIC, Availability.SAME_DAY, 0, "forecast high, degrees C, known that morning"),
        FeatureSpec("event_note", FeatureKind.TEXT, Availability.AFTER_DAY, 0, "free-text note logged on the day an event starts"),
        FeatureSpec("day_of_week", FeatureKind.CATEGORICAL, Availability.KNOWN_AHEAD, 60, "0 = Monday"),
    )
    problem = ProblemSpec("grocery_weather", "leafy greens", "romaine lettuce hearts", 2.0, 18.0, 1, REPLAY, DAYS - REPLAY,
                          context="Fresh produce whose demand rises with temperature and with local events.")
    return Example(WorkspaceSpec(problem, _initial(mu[:7].mean(), 1, True), specs), DemandSequence(dates, demand, feats))


def spare_parts(seed: int) -> Example:
    rng = np.random.default_rng(seed)
    dates, dow = _dates("2024-02-05", DAYS)
    maint = np.zeros(DAYS)
    for start in range(int(rng.integers(3, 10)), DAYS, int(rng.integers(12, 18))):
        maint[start:start + 3] = 1.0
    rate = np.where(dow >= 5, 0.15, 0.6) * (1 + 4.0 * maint) * np.linspace(1.0, 1.5, DAYS)
    demand = np.where(rng.random(DAYS) < 1 - np.exp(-rate), rng.geometric(0.45, DAYS), 0)
    feats = {"maintenance_window": maint, "day_of_week": dow}
    specs = (
        FeatureSpec("maintenance_window", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, "1 during scheduled plant maintenance"),
        FeatureSpec("day_of_week", FeatureKind.CATEGORICAL, Availability.KNOWN_AHEAD, 60, "0 = Monday"),
    )
    problem = ProblemSpec("spare_parts", "industrial spare parts", "hydraulic seal kit", 0.5, 9.5, 3, REPLAY, DAYS - REPLAY,
                          context="An intermittent spare part consumed mostly during scheduled maintenance.")
    return Example(WorkspaceSpec(problem, _initial(2.0, 3, True), specs), DemandSequence(dates, demand, feats))


def cloud_compute(seed: int) -> Example:
    rng = np.random.default_rng(seed)
    dates, dow = _dates("2024-09-02", DAYS)
    release = np.zeros(DAYS)
    release[rng.choice(np.arange(10, DAYS), size=6, replace=False)] = 1.0
    trend = np.where(np.arange(DAYS) < 60, 400 + 1.0 * np.arange(DAYS), 460 + 3.0 * (np.arange(DAYS) - 60))
    load = trend * np.where(dow >= 5, 0.7, 1.0) * (1 + 0.35 * release) * rng.lognormal(0, 0.08, DAYS)
    feats = {"release_day": release, "day_of_week": dow}
    specs = (
        FeatureSpec("release_day", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 10, "1 on scheduled product-release days"),
        FeatureSpec("day_of_week", FeatureKind.CATEGORICAL, Availability.KNOWN_AHEAD, 60, "0 = Monday"),
    )
    problem = ProblemSpec("cloud_compute", "cloud compute", "reserved GPU-hours (pool)", 1.0, 4.0, 1, REPLAY, DAYS - REPLAY,
                          unit="continuous", context="Compute capacity reserved a day ahead; unmet load is lost to spot capacity.")
    return Example(WorkspaceSpec(problem, _initial(float(load[:7].mean()), 1, False), specs),
                   DemandSequence(dates, np.round(load, 2), feats))


EXAMPLES: dict[str, tuple[Callable[[int], Example], int]] = {
    "retail_promo": (retail_promo, 11),
    "grocery_weather": (grocery_weather, 12),
    "spare_parts": (spare_parts, 13),
    "cloud_compute": (cloud_compute, 14),
}


def build(out: Path, names: list[str] | None = None, *, seed_offset: int = 0, suffix: str = "", force: bool = False) -> list[Path]:
    """Write the examples under ``out``; ``seed_offset`` makes further independent draws."""
    paths = []
    for name in names or list(EXAMPLES):
        make, seed = EXAMPLES[name]
        ex = make(seed + seed_offset)
        target = out / f"{name}{suffix}"
        problem = ex.spec.problem
        if suffix:
            from dataclasses import replace
            ex = Example(replace(ex.spec, problem=replace(problem, name=f"{name}{suffix}")), ex.seq)
        write_workspace_atomic(target, ex.spec, ex.seq.slice(0, REPLAY), ex.seq.slice(REPLAY, DAYS), overwrite=force)
        log.info("wrote %s", target)
        paths.append(target)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the example workspaces.")
    ap.add_argument("--out", type=Path, default=Path("workspaces"))
    ap.add_argument("--force", action="store_true", help="replace existing example folders")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    build(args.out, force=args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
