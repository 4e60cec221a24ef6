import numpy as np

from certify import GateConfig, compare, format_certificate_table


def certs():
    cand = np.tile([1.0, 2.0], 50)
    comp = np.tile([2.0, 2.5], 50)
    a = compare("tilted-cbs-with-a-long-name", "h1", "base_stock", cand, comp,
                config=GateConfig(), n_pairs=3, bound=10.0, lead_time=1, role="safety")
    b = compare("newsvendor", "h2", "champion", comp, cand,
                config=GateConfig(method="blockwise_t"), n_pairs=3, bound=None,
                lead_time=1, role="improvement")
    return a, b


def test_table_rows_align_and_carry_numbers():
    a, b = certs()
    lines = format_certificate_table([a, b]).splitlines()
    header, rule, row_a, row_b = lines[:4]
    assert header.split() == ["candidate", "comparator", "radius", "gains", "guarantee", "n",
                              "mean", "sd", "r", "LCB", "UCB", "eps", "eta", "safety", "improve"]
    assert row_a.split()[3:5] == ["in_sample", "screen"]
    assert row_a.startswith("tilted-cbs-with-a-long-name  base_stock")
    assert row_b.index("champion") == row_a.index("base_stock") == header.index("comparator")
    assert f"{a.lcb:+.4f}" in row_a and f"{b.ucb:+.4f}" in row_b
    # a: gains 1, 0.5 -> mean 0.75 < Hoeffding r = 3.0943 (n=100, B=10, N_t=3) -> FAIL
    assert a.safety_pass is False and row_a.split()[-2:] == ["FAIL", "-"]
    assert row_b.split()[-2:] == ["-", "FAIL"]
    # right-aligned numeric column: "LCB" header ends where the LCB cells end
    end = header.index("LCB") + 3
    assert row_a[:end].endswith(f"{a.lcb:+.4f}") and row_b[:end].endswith(f"{b.lcb:+.4f}")


def test_table_prints_dependence_caveats_per_kind():
    a, b = certs()
    text = format_certificate_table([a, b])
    assert "note [hoeffding]:" in text and "note [blockwise_t]:" in text
    assert text.count("not independent") == 2
    only_a = format_certificate_table([a])
    assert "blockwise_t" not in only_a


def test_empty_table():
    text = format_certificate_table([])
    assert text.splitlines()[-1] == "(no certificates)"
    assert "note [" not in text
