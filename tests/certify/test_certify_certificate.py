import dataclasses
import json

import pytest

from certify import Certificate, certificate_note


def make(**overrides):
    fields = dict(
        candidate_id="cand-1",
        source_hash="abc123",
        comparator_id="ref",
        n=100,
        mean_gain=0.75,
        sd_gain=1.5,
        radius_kind="hoeffding",
        radius=0.5,
        lcb=0.25,
        ucb=1.25,
        delta=0.05,
        n_pairs=7,
        eps=0.1,
        eta=0.0,
        bound=10.0,
        block=None,
        n_blocks=None,
        safety_pass=True,
        improvement_pass=None,
        note=certificate_note("hoeffding"),
    )
    fields.update(overrides)
    return Certificate(**fields)


def test_round_trip_through_json():
    cert = make()
    again = Certificate.from_dict(json.loads(json.dumps(cert.to_dict())))
    assert again == cert
    blockwise = make(radius_kind="blockwise_t", bound=None, block=7, n_blocks=14,
                     safety_pass=None, improvement_pass=False,
                     note=certificate_note("blockwise_t", 7, 14, 2))
    assert Certificate.from_dict(json.loads(json.dumps(blockwise.to_dict()))) == blockwise


def test_to_dict_has_every_field_with_json_types():
    d = make().to_dict()
    assert list(d) == [f.name for f in dataclasses.fields(Certificate)]
    assert d["n"] == 100 and type(d["n"]) is int
    assert d["block"] is None and d["safety_pass"] is True


def test_from_dict_accepts_int_for_float_and_coerces():
    d = make().to_dict()
    d["bound"] = 10
    cert = Certificate.from_dict(d)
    assert cert.bound == 10.0 and type(cert.bound) is float


def test_from_dict_names_missing_field():
    d = make().to_dict()
    del d["lcb"]
    with pytest.raises(ValueError, match="missing field 'lcb'"):
        Certificate.from_dict(d)


def test_from_dict_names_bad_field():
    d = make().to_dict()
    d["n"] = "100"
    with pytest.raises(ValueError, match="field 'n' must be int, got '100'"):
        Certificate.from_dict(d)
    d = make().to_dict()
    d["safety_pass"] = "yes"
    with pytest.raises(ValueError, match="field 'safety_pass' must be bool or None"):
        Certificate.from_dict(d)
    d = make().to_dict()
    d["n"] = 100.0
    with pytest.raises(ValueError, match="field 'n' must be int"):
        Certificate.from_dict(d)


def test_from_dict_rejects_unknown_field_and_non_mapping():
    d = make().to_dict()
    d["extra"] = 1
    with pytest.raises(ValueError, match="unknown field\\(s\\): extra"):
        Certificate.from_dict(d)
    with pytest.raises(ValueError, match="must be a mapping"):
        Certificate.from_dict([1, 2])


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(radius_kind="bootstrap"), "radius_kind"),
        (dict(bound=None), "'bound' is required for a hoeffding radius"),
        (dict(radius_kind="blockwise_t", block=None, n_blocks=3), "'block' is required"),
        (dict(radius_kind="blockwise_t", block=7, n_blocks=None), "'n_blocks' is required"),
        (dict(lcb=2.0), "lcb 2.0 > ucb 1.25"),
        (dict(delta=1.0), "'delta' must be in \\(0, 1\\)"),
        (dict(mean_gain=float("nan")), "'mean_gain' must be finite"),
        (dict(eps=-0.1), "'eps' must be >= 0"),
        (dict(n=0), "'n' must be >= 1"),
        (dict(radius=-1.0), "'radius' must be >= 0"),
    ],
)
def test_constructor_validates(overrides, match):
    with pytest.raises(ValueError, match=match):
        make(**overrides)


def test_certificate_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make().lcb = 3.0


def test_summary_is_one_line_with_numbers_and_gates():
    s = make().summary()
    assert "\n" not in s
    for part in ("cand-1 vs ref", "[hoeffding, screen, in_sample]", "n=100", "mean=+0.7500", "r=0.5000",
                 "LCB=+0.2500", "UCB=+1.2500", "eps=0.1000 (constant)", "safety=PASS", "improvement=-"):
        assert part in s
    assert "safety=FAIL" in make(safety_pass=False).summary()


def test_notes_state_dependence_and_screen():
    hoeff = certificate_note("hoeffding")
    assert "not independent" in hoeff and "inventory carries over" in hoeff
    assert "screen, not a formal guarantee" in hoeff
    block = certificate_note("blockwise_t", 7, 14, 2)
    assert "practical screen" in block and "not independent" in block
    assert "14 block(s) of 7 days" in block and "2 trailing day(s)" in block
    assert "trailing" not in certificate_note("blockwise_t", 7, 14, 0)
    with pytest.raises(ValueError, match="radius_kind"):
        certificate_note("bootstrap")
