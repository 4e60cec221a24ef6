"""The seed-dataset generator: scope, availability, events, nonstationarity, calibration."""
import numpy as np
import pytest

from datagen.covariates import build_world
from datagen.demand import FAMILIES, NONSTATIONARITY_KINDS
from datagen.domains import DOMAINS
from datagen.slicing import SliceConfig, slice_starts
from datagen.synthetic import _rng, generate_dataset
from inventory.sequence import Availability, FeatureKind


@pytest.fixture(scope="module")
def datasets():
    world = build_world(_rng(0, 0))
    return [generate_dataset(0, i, world) for i in range(47)]


def test_scope(datasets):
    assert len(datasets) == 47 and len(DOMAINS) == 15
    assert len({d.domain.slug for d in datasets}) == 15
    assert len({d.sku for d in datasets}) == 47
    for d in datasets:
        assert len(d.sequence) == 731
        assert d.sequence.dates[0] == "2024-01-01" and d.sequence.dates[-1] == "2025-12-31"


def test_every_family_and_nonstationarity_kind_occurs(datasets):
    assert {d.diagnostics["variant"]["family"] for d in datasets} == set(FAMILIES)
    kinds = {k for d in datasets for k in d.diagnostics["kinds"]}
    assert kinds == set(NONSTATIONARITY_KINDS)
    assert all(d.diagnostics["kinds"] for d in datasets)


def test_availability_declarations(datasets):
    calendar = {"day_of_week", "is_weekend", "is_holiday", "month"}
    planned = {"promo_intensity", "festival_intensity", "maintenance_scheduled", "marketing_campaign"}
    weather = {"temperature", "humidity", "precipitation", "uv_index"}
    indices = {"macro_index", "cost_index", "flu_index", "fuel_price"}
    seen = set()
    for d in datasets:
        for f in d.features:
            seen.add(f.name)
            if f.name in calendar | planned:
                assert f.availability is Availability.KNOWN_AHEAD and f.horizon >= 7
            if f.name in weather:
                assert f.availability is Availability.SAME_DAY
            if f.name in indices:
                assert f.availability is Availability.AFTER_DAY
        assert d.features[-1].name == "note" and d.features[-1].kind is FeatureKind.TEXT
    assert seen & calendar and seen & planned and seen & weather and seen & indices


def test_feature_subsets_vary_within_a_domain(datasets):
    by_domain = {}
    for d in datasets:
        by_domain.setdefault(d.domain.slug, set()).add(tuple(f.name for f in d.features))
    assert sum(len(v) > 1 for v in by_domain.values()) >= 12


def test_notes_only_at_observed_event_onsets(datasets):
    n_events = 0
    for d in datasets:
        note = d.sequence.features["note"]
        onsets = {e["onset"] for e in d.diagnostics["events"] if e["observed"]}
        written = {int(i) for i in np.flatnonzero(note != "")}
        assert written == onsets
        n_events += len(d.diagnostics["events"])
        state = np.array(d.diagnostics["latent"]["event_state"])
        for e in d.diagnostics["events"]:
            if e["duration"] > 2 and e["onset"] + 2 < 731:
                assert state[e["onset"] + 1] != 0  # the state persists after the note day
    assert n_events > 47


def test_demand_sign_of_events_depends_on_domain():
    signs = {}
    for dom in DOMAINS:
        for et in dom.events:
            signs.setdefault(et.label, set()).add(et.sign)
    assert any(len(s) == 2 for s in signs.values())


def test_deterministic_and_seed_sensitive():
    a, b = generate_dataset(3, 20), generate_dataset(3, 20)
    c = generate_dataset(4, 20)
    assert np.array_equal(a.sequence.demand, b.sequence.demand)
    assert a.diagnostics == b.diagnostics
    assert not np.array_equal(a.sequence.demand, c.sequence.demand)


def test_summary_statistics_near_the_paper(datasets):
    means, cvs = [], []
    for d in datasets:
        for s in slice_starts(_rng(0, 2, d.index), 731, SliceConfig()):
            x = d.sequence.demand[s:s + 130]
            means.append(x.mean())
            cvs.append(x.std(ddof=1) / x.mean())
    means, cvs = np.array(means), np.array(cvs)
    assert means.min() < 1.0 and 700 < means.max() < 1200 and 40 < np.median(means) < 80
    assert 0.04 < cvs.min() < 0.1 and 0.3 < np.median(cvs) < 0.42 and 2.0 < cvs.max() < 4.0


def test_continuous_demand_only_for_load_like_domains(datasets):
    for d in datasets:
        if d.domain.unit == "count":
            assert np.all(d.sequence.demand == np.round(d.sequence.demand))
    assert any(d.domain.unit == "continuous" for d in datasets)
