"""The experiments' tables from hand-made results: grouping against the paper's rows, the
win/tie/loss band, the optimality-gap estimators, the exact DP inputs and its memory cap."""
from __future__ import annotations

import numpy as np
import pytest

from bench import classical_exact, paper
from bench.classical_job import ClassicalResult
from bench.evolve_job import EvolveResult
from bench.provenance import UNRECORDED, Provenance
from bench.report import write_classical, write_success
from bench.tables import Method, best_baseline_rows, gap_rows, success_rows, wtl_rows

BASE = {"base_stock": 10.0, "capped_base_stock": 9.0, "constant_order": 12.0, "newsvendor": 9.5, "s_S": 11.0}


def _ev(name, group, ood, deployed, best=9.0):
    costs = dict(BASE, capped_base_stock=best)
    ok = deployed < best
    return EvolveResult(name, group, group.title(), ood, "r01-x", "x", "baseline-capped_base_stock", deployed, costs,
                        "capped_base_stock", best, ok, (1 - deployed / best) if ok else None, 3)


def test_success_rows_follow_the_paper_and_count_failures():
    rs = [_ev("a1", "cloud_compute", True, 8.1), _ev("a2", "cloud_compute", True, 9.0),
          _ev("b1", "t_shirts", False, 4.5, best=5.0), _ev("c1", "bakery", False, 1.0)]
    rows = success_rows(rs, [("t_shirts", "T-Shirt", False)], paper.TABLE2, paper.TABLE2_OVERALL, paper.TABLE2_OOD)
    by = {r.key: r for r in rows}
    assert [r.key for r in rows] == ["cloud_compute", "t_shirts", "bakery", "overall", "ood"]
    assert (by["cloud_compute"].cases, by["cloud_compute"].successes) == (2, 1)
    assert by["cloud_compute"].mean_reduction == pytest.approx(0.1)
    assert by["cloud_compute"].paper.invevolve == 6 and by["cloud_compute"].label == "Cloud Compute"
    assert (by["t_shirts"].cases, by["t_shirts"].successes, by["t_shirts"].failed) == (2, 1, 1)
    assert by["bakery"].paper is None                       # not a test domain of the paper
    assert (by["overall"].cases, by["overall"].successes) == (5, 3)
    assert by["overall"].mean_reduction == pytest.approx(np.mean([0.1, 0.1, 1 - 1 / 9]))
    assert (by["ood"].cases, by["ood"].successes) == (2, 1)
    assert by["ood"].paper.invevolve == 15


def _cl(dist, pic, deployed, cbs=10.0, opt=9.5, cbs_exact=9.9, **base):
    costs = {"base_stock": 1.05 * cbs, "capped_base_stock": cbs, "constant_order": 1.2 * cbs,
             "newsvendor": 1.03 * cbs, "s_S": 1.1 * cbs, **base}
    return ClassicalResult(f"classical_{dist}_L1_p4", dist, 1, 4.0, 1000, costs, {"tilted_cbs": cbs, "tilted_pic": pic},
                           {}, "r01-x" if deployed is not None else None, "x", deployed, 2, opt, "SPEC §8", cbs_exact)


def test_win_tie_loss_band_and_best_baseline():
    rs = [_cl("poisson", 9.94, 9.0), _cl("poisson", 9.96, 10.04), _cl("poisson", 10.2, None),
          _cl("gamma", 9.0, 10.0, base_stock=8.0)]
    rows = {(r.method, r.distribution): r for r in wtl_rows(rs, 0.005)}
    pic = rows[(Method.TILTED_PIC, "poisson")]
    assert (pic.win, pic.tie, pic.loss) == (1, 1, 1)        # -0.6% win, -0.4% tie, +2% loss
    assert pic.paper.win == 6 and rows[(Method.TILTED_PIC, "total")].paper.win == 41
    evo = rows[(Method.EVOLVE, "poisson")]
    assert (evo.win, evo.tie, evo.loss, evo.missing) == (1, 1, 0, 1)
    assert evo.worst_pct == pytest.approx(0.4)              # the largest deterioration, positive = dearer
    best = {r.distribution: r.counts for r in best_baseline_rows(rs)}
    assert best["poisson"]["capped_base_stock"] == 3 and best["gamma"]["base_stock"] == 1
    assert best["total"]["capped_base_stock"] == 3 and sum(best["total"].values()) == 4
    assert not any(r.method == Method.EVOLVE for r in wtl_rows([_cl("poisson", 9.0, None)], 0.005))


def test_gaps_use_common_random_numbers_against_exact_cbs():
    r = _cl("poisson", 9.8, 9.7)
    assert r.estimate(9.8) == pytest.approx(9.9 - 0.2)      # exact CBS + paired difference
    assert r.gap(9.8) == pytest.approx(9.7 / 9.5 - 1)
    no_chain = _cl("poisson", 9.8, 9.7, cbs_exact=None)
    assert no_chain.gap(9.8) == pytest.approx(9.8 / 9.5 - 1)  # falls back to the test-window cost
    g = {row.distribution: row for row in gap_rows([r])}["poisson"]
    assert g.cbs_mean == pytest.approx(100 * (9.9 / 9.5 - 1))
    assert g.evolve_mean == pytest.approx(100 * ((9.9 - 0.3) / 9.5 - 1))


def test_writers_make_markdown_csv_and_png(tmp_path):
    prov = Provenance("exp3", "suite", "built-in proposer", "budget", "cmd", "abc", 2, 60.0, "1.0", "local")
    files = write_classical(tmp_path, "exp3", best_baseline_rows([_cl("poisson", 9.0, 9.5)]),
                            wtl_rows([_cl("poisson", 9.0, 9.5)], 0.005), gap_rows([_cl("poisson", 9.0, 9.5)]),
                            0.005, prov, {"classical_gamma_L4_p39": "RuntimeError: boom"})
    md = files.markdown.read_text()
    assert "41/47/8" in md and "| Tilted-PIC | poisson | 1/0/0 | 6/7/3 |" in md and "RuntimeError: boom" in md
    assert files.png.read_bytes()[:4] == b"\x89PNG" and files.csv.read_text().startswith("table,method")
    rows = success_rows([_ev("a1", "Produce", False, 8.0)], [], paper.TABLE3, paper.TABLE3_OVERALL)
    files = write_success(tmp_path, "exp2", "t", rows, paper.TABLE3_OTHERS, prov, {})
    assert "| Produce | 1 | 1/1 (100%) | 11.1% | 13 | 9/13 (69%) | 8.9% | 5/13 (38%) | 5/13 (38%) |" in \
        files.markdown.read_text()


def test_provenance_of_a_resumed_sweep_names_what_ran_now_and_which_code_computed_the_rest():
    whole = Provenance("exp3", "suite", "p", "b", "cmd", "abc", 3, 90.0, "1.0", "local", computed=3,
                       worker_seconds=150.0, result_commits=["abc"] * 3)
    assert "wall 1.5 min; worker time 2.5 min summed over all 3 (load" in whole.markdown()
    assert "commit(s)" not in whole.markdown()  # every result is this invocation's code
    resumed = Provenance("exp3", "suite", "p", "b", "cmd", "def", 3, 0.5, "1.0", "local", computed=0,
                         worker_seconds=600.0, result_commits=["abc", UNRECORDED, "abc"])
    md = resumed.markdown()
    assert "this invocation computed 0 of them in 0.0 min wall, 3 were read from earlier runs" in md
    assert "worker time 10.0 min" in md and f"commit(s) `abc`, `{UNRECORDED}`" in md


@pytest.mark.parametrize("dist", ["poisson", "geometric", "binomial", "uniform", "gamma", "halfnormal"])
def test_demand_laws_have_mean_five_and_match_the_samplers(dist):
    from datagen.classical import DISTRIBUTIONS
    pmf = classical_exact.demand_pmf(dist)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(pmf @ np.arange(len(pmf))) == pytest.approx(5.0, abs=0.01)
    sampler = next(d for d in DISTRIBUTIONS if d.name == dist).sample
    x = sampler(np.random.default_rng(0), 200_000).astype(int)
    emp = np.bincount(x, minlength=len(pmf))[: len(pmf)] / len(x)
    assert np.abs(emp - pmf).max() < 0.004


def test_dp_reproduces_spec8_and_respects_its_memory_cap(monkeypatch):
    assert classical_exact._solve("poisson", 2, 1.0, 9.0) == pytest.approx(6.0936, abs=1e-4)  # SPEC §8
    assert classical_exact.optimum("poisson", 2, 1.0, 9.0).source == "SPEC §8"
    assert classical_exact.cbs_cost("geometric", 3, 1.0, 4.0, 135.4, 2.9) is None  # 2e9 entries: skipped
    monkeypatch.setattr(classical_exact, "MEMORY_CAP", 300 << 20)
    assert classical_exact._bounded(classical_exact._solve, "binomial", 4, 1.0, 39.0) is None  # needs ~0.5 GB
