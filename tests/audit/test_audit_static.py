"""Static reading, defensive run-directory readers and the plain-words certificate."""
from __future__ import annotations

import json

import pytest

from audit.certificate_text import certificate_check, describe
from audit.model import Verdict
from audit.records import CandidateRecord, RunDirError, RunView
from audit.static import read_source, side_by_side_diff
from inventory.library import policy_source
from inventory.sequence import Availability, FeatureKind, FeatureSpec

SPECS = (FeatureSpec("promo", FeatureKind.BINARY, Availability.KNOWN_AHEAD, 7, "planned promotion"),
         FeatureSpec("temp", FeatureKind.NUMERIC, Availability.SAME_DAY, 0, "temperature"))

RULE = '''"""A rule that names promo in its docstring only: temp is not a claim here."""
import numpy as np

WINDOW = 14
FEATURES = ("promo",)
PARAMS = {"S": (0.0, 60.0), "k": (0.0, 2.0)}


def order(o, params):
    lift = o.features["promo"][o.t] if len(o.features["promo"]) > o.t else 0.0
    recent = np.asarray(o.demand[-WINDOW:], dtype=float)
    level = params["S"] + params["k"] * lift * recent.mean()
    if o.date.endswith("-01"):
        level = level * 1.1
    return np.maximum(level - o.position, 0.0)
'''


def test_reads_fields_features_constants_and_claims():
    rep = read_source(RULE, SPECS)
    assert rep.valid and rep.parsed
    assert set(rep.fields_read) == {"features", "t", "demand", "date", "position"}  # `o` is the obs name here
    uses = {f.name: f for f in rep.features}
    assert uses["promo"].claimed and uses["promo"].lines == (5, 10)
    assert not uses["temp"].claimed and uses["temp"].availability == "same_day"
    assert rep.claims_monotone and rep.gap_lines == (15,)
    assert rep.claims_weekday
    assert rep.constants["WINDOW"] == "14" and "PARAMS" in rep.constants and rep.space_kind == "PARAMS"
    assert rep.randomness == ()
    assert [f.name for f in rep.functions] == ["order"] and rep.functions[0].complexity == 3  # if-expression + if


def test_randomness_and_validator_rejection_are_reported():
    noisy = "import numpy as np\n\ndef order(obs, params):\n    return np.random.default_rng().poisson(5)\n"
    rep = read_source(noisy, SPECS)
    # The validator rejects randomness (sandbox/validator_rules.py); the audit still names each use.
    assert not rep.valid and any("deterministic" in r for r in rep.reasons)
    assert any(".random" in r for r in rep.randomness) and any("default_rng" in r for r in rep.randomness)
    bad = read_source("import os\n\ndef order(obs, params):\n    return os.getpid()\n", SPECS)
    assert not bad.valid and any("os" in r for r in bad.reasons)
    broken = read_source("def order(obs, params:\n", SPECS)
    assert not broken.valid and not broken.parsed and [f.claimed for f in broken.features] == [False, False]


def test_library_baselines_claim_monotonicity_except_constant_order():
    for name in ("base_stock", "capped_base_stock", "newsvendor", "s_S"):
        assert read_source(policy_source(name), SPECS).claims_monotone, name
    assert not read_source(policy_source("constant_order"), SPECS).claims_monotone


def test_side_by_side_diff_escapes_source():
    html = side_by_side_diff("x = 1\n", "x = '<script>'\n", "ref", "cand")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_run_view_reads_defensively(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"workspace": "/somewhere", "new_field": 1}))
    rows = [{"candidate_id": "c1", "name": "n", "status": "ok", "params": {"S": 3}, "replay_cost": 2.0,
             "replay_costs": [1, 3], "round": 1, "origin": "builtin", "vectorised": True, "added_later": [1, 2]},
            {"candidate_id": "c2", "status": "failed", "error": "boom"}]
    (tmp_path / "candidates.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + '\n{"torn": ')
    view = RunView(tmp_path)
    recs = view.candidates()
    assert set(recs) == {"c1", "c2"}
    c1 = recs["c1"]
    assert c1.params == {"S": 3.0} and c1.replay_costs == (1.0, 3.0) and c1.vectorised is True
    assert c1.extra == {"added_later": [1, 2]}
    assert recs["c2"].round == 0 and recs["c2"].replay_cost is None and not recs["c2"].ok
    with pytest.raises(RunDirError, match="field 'candidate_id' is missing"):
        CandidateRecord.parse({"name": "x"}, "candidates.jsonl line 3")
    with pytest.raises(RunDirError, match="field 'round' must be int"):
        CandidateRecord.parse({"candidate_id": "x", "round": "one"}, "candidates.jsonl line 4")
    with pytest.raises(RunDirError, match="no such candidate source"):
        view.candidate_source("../../etc/passwd")


CERT = {"candidate_id": "c1", "source_hash": "ab", "comparator_id": "baseline-newsvendor", "n": 98, "mean_gain": 2.5,
        "sd_gain": 10.0, "radius_kind": "blockwise_t", "radius": 1.5, "lcb": 1.0, "ucb": 4.0, "delta": 0.05,
        "n_pairs": 23, "eps": 0.4, "eta": 0.0, "bound": None, "block": 7, "n_blocks": 14, "safety_pass": True,
        "improvement_pass": None, "note": "Blockwise-t over 14 block(s) of 7 days."}


def test_certificate_in_plain_words():
    text = describe(CERT, "safety")
    joined = " ".join(text.lines)
    assert "n = 98" in joined and "N_t = 23" in joined and "delta = 0.05" in joined
    assert "2.5 less per day" in joined and "[+1, +4]" in joined
    assert "LCB - eps = +0.6 >= 0: PASS" in joined
    assert "no estimator recorded" in joined
    assert text.excludes[0].startswith("Blockwise-t over 14") and text.passed is True


def test_certificate_fields_added_later_are_shown_not_guessed():
    later = {**CERT, "radius_kind": "stepm", "eps_estimator": "historical_quantile", "gain_days": [100, 130]}
    text = describe(later, "safety")
    assert "'stepm' (see docs/certify.md)" in text.lines[0]
    assert "eps_estimator = historical_quantile" in " ".join(text.lines)
    assert text.recorded == {"eps_estimator": "historical_quantile", "gain_days": [100, 130]}
    assert "gain_days = [100, 130]" in text.covers[0]


def test_a_formal_mode_certificate_speaks_of_simulated_paths_not_days():
    formal = {**CERT, "n": 20, "gain_source": "replications", "first_day": None, "last_day": None, "n_segments": 20}
    text = describe(formal, "safety")
    assert "On n = 20 independent simulated continuations of the replay window" in " ".join(text.lines)
    assert "days" not in text.lines[1].split("per day")[0]
    assert "declared [demand_model]" in text.covers[0] and "first_day" not in text.covers[0]
    assert "over the 98 days" in describe(CERT, "safety").covers[0]


def test_certificate_check_blocks_only_for_a_runs_certificate():
    failed = {**CERT, "lcb": -1.0, "safety_pass": False}
    run = certificate_check("c1", "baseline-newsvendor", failed, from_run=True)
    assert run.verdict is Verdict.FAIL and run.blocks
    screen = certificate_check("c1", "baseline-newsvendor", failed, from_run=False)
    assert screen.verdict is Verdict.FAIL and not screen.blocks
    ref = certificate_check("baseline-newsvendor", "baseline-newsvendor", None, from_run=True)
    assert ref.verdict is Verdict.PASS
    missing = certificate_check("c1", "baseline-newsvendor", None, from_run=True)
    assert missing.verdict is Verdict.WARN and not missing.blocks
