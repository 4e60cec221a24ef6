"""Temporal slicing of seed datasets (InvEvolve Sec. 4.1.2) and the standard split (Sec. 5.1).

Slices are windows of ``replay + forward`` consecutive days. Their start positions are drawn
uniformly among all configurations whose starts (hence endpoints) are pairwise at least
``min_sep`` days apart: draw ``k`` sorted values in ``[0, span - (k - 1) * min_sep]`` and add
``i * min_sep`` to the i-th one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SliceConfig:
    """Slicing of one seed dataset."""

    n_slices: int = 10
    replay_days: int = 100
    forward_days: int = 30
    min_sep: int = 15

    @property
    def length(self) -> int:
        return self.replay_days + self.forward_days


def slice_starts(rng: np.random.Generator, n_days: int, cfg: SliceConfig) -> np.ndarray:
    """Sorted start indices of ``cfg.n_slices`` windows inside ``n_days`` days.

    Raises ValueError when the windows cannot fit with the required separation.
    """
    span = n_days - cfg.length
    free = span - (cfg.n_slices - 1) * cfg.min_sep
    if span < 0 or free < 0:
        raise ValueError(f"{cfg.n_slices} slices of {cfg.length} days {cfg.min_sep} days apart do not fit in {n_days} days")
    base = np.sort(rng.integers(0, free + 1, cfg.n_slices))
    return base + cfg.min_sep * np.arange(cfg.n_slices)


def min_separation(starts: np.ndarray) -> int:
    """Smallest gap between sorted starts (endpoints move with the starts)."""
    s = np.sort(np.asarray(starts))
    return int(np.diff(s).min()) if len(s) > 1 else 10**9


# Standard split of the paper (Table 2): test cases per domain, and the five test domains
# that never appear in training. The OOD set is ours (the paper's marks were lost in
# extraction); it is chosen so that the OOD cases total 17, as in the paper's last row.
TEST_COUNTS: dict[str, int] = {
    "cloud_compute": 6, "power_grid_load": 5, "construction_material": 4, "ev_battery_supply": 4,
    "medical_supplies": 3, "restaurant_ingredients": 3, "cosmetics": 2, "leafy_greens": 1, "t_shirts": 1,
    "industrial_spare_parts": 1,
}
OOD_DOMAINS: tuple[str, ...] = ("cloud_compute", "power_grid_load", "medical_supplies", "cosmetics", "leafy_greens")
N_TRAIN = 10


@dataclass(frozen=True)
class SliceRecord:
    """One workspace of a sliced suite (what the split needs to know)."""

    name: str
    dataset: str
    domain: str


def standard_split(rng: np.random.Generator, records: list[SliceRecord]) -> dict[str, object]:
    """10 training and 30 test workspaces.

    Test: ``TEST_COUNTS`` workspaces per domain. Each in-distribution test domain keeps one
    dataset (SKU) for training only; its test cases come from its other datasets. Training:
    one workspace from each reserved dataset plus one from each of the domains not in the
    test set, until ``N_TRAIN``. No dataset appears in both; OOD domains never in training.
    """
    by_domain: dict[str, dict[str, list[str]]] = {}
    for r in records:
        by_domain.setdefault(r.domain, {}).setdefault(r.dataset, []).append(r.name)
    missing = [d for d in TEST_COUNTS if d not in by_domain]
    if missing:
        raise ValueError(f"split needs domains {missing}, which the suite does not have")
    test, train, reserved = [], [], []
    for domain, count in TEST_COUNTS.items():
        datasets = sorted(by_domain[domain])
        if domain not in OOD_DOMAINS:
            if len(datasets) < 2:
                raise ValueError(f"in-distribution test domain {domain} needs >= 2 datasets")
            keep = datasets[int(rng.integers(len(datasets)))]
            reserved.append(keep)
            datasets = [d for d in datasets if d != keep]
        pool = sorted(n for d in datasets for n in by_domain[domain][d])
        test += [pool[i] for i in sorted(rng.choice(len(pool), count, replace=False))]
    ds_of = {r.name: r.dataset for r in records}
    dom_ds = {r.dataset: r.domain for r in records}
    for ds in reserved:
        names = sorted(by_domain[dom_ds[ds]][ds])
        train.append(names[int(rng.integers(len(names)))])
    others = sorted(d for d in by_domain if d not in TEST_COUNTS)
    order = [others[i] for i in rng.permutation(len(others))]
    for domain in order:
        if len(train) >= N_TRAIN:
            break
        names = sorted(n for ns in by_domain[domain].values() for n in ns)
        train.append(names[int(rng.integers(len(names)))])
    if len(train) < N_TRAIN:
        raise ValueError(f"only {len(train)} training workspaces could be drawn")
    assert not {ds_of[n] for n in train} & {ds_of[n] for n in test}
    return {
        "train": sorted(train), "test": sorted(test),
        "test_domains": sorted(TEST_COUNTS), "ood_domains": sorted(OOD_DOMAINS),
        "train_domains": sorted({dom_ds[ds_of[n]] for n in train}),
        "note": "no dataset (SKU) is in both lists; OOD test domains never appear in training",
    }
