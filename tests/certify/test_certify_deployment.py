import itertools

import pytest

from certify import Certificate, certificate_note, choose_deployment


def cert(cid, lcb, ucb, safe, comparator="ref"):
    return Certificate(
        candidate_id=cid, source_hash="h", comparator_id=comparator, n=50,
        mean_gain=(lcb + ucb) / 2, sd_gain=1.0, radius_kind="hoeffding",
        radius=(ucb - lcb) / 2, lcb=lcb, ucb=ucb, delta=0.05, n_pairs=5, eps=0.0,
        eta=0.0, bound=10.0, block=None, n_blocks=None, safety_pass=safe,
        improvement_pass=None, note=certificate_note("hoeffding"),
    )


def test_deploys_largest_ucb_among_safety_passing():
    pool = [
        ("a", cert("a", 0.1, 1.0, True)),
        ("b", cert("b", 0.2, 2.0, True)),
        ("c", cert("c", -0.5, 5.0, False)),
    ]
    dep = choose_deployment(pool, "ref")
    assert dep.deployed_id == "b"
    assert dep.certificate is pool[1][1]
    assert "2.0000" in dep.reason and "2 of 3" in dep.reason


def test_falls_back_to_reference_when_none_passes():
    pool = [("a", cert("a", -0.1, 1.0, False)), ("b", cert("b", -1.0, 3.0, False))]
    dep = choose_deployment(pool, "ref")
    assert dep.deployed_id == "ref" and dep.certificate is None
    assert "0 of 2" in dep.reason
    assert choose_deployment([], "ref").deployed_id == "ref"


def test_ties_break_on_lcb_then_id_regardless_of_order():
    # equal UCB: "az" loses on LCB; "ay" and "bx" tie on LCB too, "ay" < "bx"
    pool = [
        ("bx", cert("bx", 0.5, 2.0, True)),
        ("az", cert("az", 0.3, 2.0, True)),
        ("ay", cert("ay", 0.5, 2.0, True)),
        ("low", cert("low", 0.9, 1.9, True)),
    ]
    for perm in itertools.permutations(pool):
        assert choose_deployment(list(perm), "ref").deployed_id == "ay"


def test_reference_entry_is_ignored_and_zero_ucb_keeps_reference():
    pool = [("ref", cert("ref", 0.0, 0.0, True)), ("flat", cert("flat", 0.0, 0.0, True))]
    dep = choose_deployment(pool, "ref")
    assert dep.deployed_id == "ref" and dep.certificate is None
    assert "'flat'" in dep.reason
    pool.append(("up", cert("up", 0.0, 0.1, True)))
    assert choose_deployment(pool, "ref").deployed_id == "up"


@pytest.mark.parametrize(
    "pool, match",
    [
        ([("a", cert("a", 0.1, 1.0, True, comparator="champ"))], "against 'champ', not the reference"),
        ([("a", cert("a", 0.1, 1.0, True)), ("a", cert("a", 0.1, 1.0, True))], "more than once"),
        ([("a", cert("b", 0.1, 1.0, True))], "carries a certificate for 'b'"),
        ([("a", cert("a", 0.1, 1.0, None))], "no safety gate outcome"),
        ([("a", {"lcb": 1.0})], "expected a Certificate"),
    ],
)
def test_rejects_inconsistent_input(pool, match):
    with pytest.raises(ValueError, match=match):
        choose_deployment(pool, "ref")
