"""Wire format: JSON frames only, exact float round trip, hostile replies rejected."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

from inventory.observation import Observation
from sandbox import protocol


def test_float_round_trip_is_exact():
    rng = np.random.default_rng(0)
    arr = rng.normal(size=1000) * 1e6
    back = protocol.decode_array(protocol.decode_body(protocol.encode(protocol.encode_array(arr))[4:]))
    assert back.dtype == arr.dtype and np.array_equal(back, arr)


def test_frames_are_json_not_pickle():
    r, w = os.pipe()
    os.write(w, b"\x00\x00\x00\x05\x80\x04K\x01.")  # a pickle of 1
    with pytest.raises(protocol.ProtocolError):
        protocol.read_frame_fd(r)
    os.write(w, (protocol.MAX_FRAME + 1).to_bytes(4, "big"))
    with pytest.raises(protocol.ProtocolError, match="exceeds"):
        protocol.read_frame_fd(r)
    os.close(r); os.close(w)


@pytest.mark.parametrize("bad", [None, "1", [1], True, float("nan"), float("inf"), -1.0])
def test_check_order_rejects(bad):
    with pytest.raises(protocol.ProtocolError):
        protocol.check_order(bad)


def test_check_costs_shape():
    assert protocol.check_costs([1.0, 2], 2).tolist() == [1.0, 2.0]
    for bad in ([1.0], "xx", [1.0, "a"], [True, 1.0]):
        with pytest.raises(protocol.ProtocolError):
            protocol.check_costs(bad, 2)


def _obs(t, demand, feats):
    return Observation(t=t, date=f"d{t}", on_hand=3.0, pipeline=np.array([1.0]), position=4.0,
                       demand=np.asarray(demand, dtype=float), features=feats, h=1.0, p=9.0, lead_time=2)


def test_observation_delta_and_reset():
    enc, dec = protocol.ObservationEncoder(), protocol.ObservationDecoder()
    text = np.array(["a", "b", "c"], dtype=object)
    o1 = dec.decode(enc.encode(_obs(1, [5.0], {"promo": np.array([1.0, 0.0]), "note": text[:1]})))
    m2 = enc.encode(_obs(2, [5.0, 7.0], {"promo": np.array([1.0, 0.0, 1.0]), "note": text[:2]}))
    assert m2["demand_new"]["values"] == [7.0] and not m2["reset"]  # only the new day travels
    o2 = dec.decode(m2)
    assert o2.demand.tolist() == [5.0, 7.0] and o2.features["note"].tolist() == ["a", "b"]
    assert o2.features["promo"].dtype == np.float64 and not o2.demand.flags.writeable
    m3 = enc.encode(_obs(0, [], {"promo": np.array([1.0]), "note": text[:0]}))
    assert m3["reset"]
    o3 = dec.decode(m3)
    assert len(o3.demand) == 0 and o3.features["promo"].tolist() == [1.0]
    assert o1.t == 1 and math.isclose(o2.position, 4.0)


def test_observation_delta_through_the_simulators_reveal_views():
    """Day-by-day views of one Reveal buffer take the O(1) path; the peer's history is exact,
    and histories handed to the policy on earlier days never change afterwards."""
    from inventory.observation import Reveal
    from inventory.sequence import DemandSequence

    rng = np.random.default_rng(3)
    n = 300
    seq = DemandSequence([f"d{i}" for i in range(n)], rng.poisson(5, n).astype(float), {})
    reveal = Reveal(seq, ())
    enc, dec = protocol.ObservationEncoder(), protocol.ObservationDecoder()
    kept = []
    for t in range(n):
        reveal.advance_to(t)
        msg = enc.encode(_obs(t, reveal.demand(t), {}))
        assert msg["reset"] == (t == 0)
        assert len(msg["demand_new"]["values"]) == (1 if t else 0)
        got = dec.decode(msg)
        assert got.demand.tolist() == seq.demand[:t].tolist()
        kept.append((t, got.demand))
    assert all(v.tolist() == seq.demand[:t].tolist() for t, v in kept)


def test_observation_delta_resets_when_fresh_arrays_disagree_on_the_prefix():
    """Arrays that are not views of one buffer are compared entry by entry: a changed past
    day (not an extension) resets the peer instead of sending a wrong history."""
    enc, dec = protocol.ObservationEncoder(), protocol.ObservationDecoder()
    dec.decode(enc.encode(_obs(1, [5.0], {})))
    dec.decode(enc.encode(_obs(2, [5.0, 6.0], {})))
    m = enc.encode(_obs(3, [9.0, 6.0, 1.0], {}))
    assert m["reset"] and m["demand_new"]["values"] == [9.0, 6.0, 1.0]
    assert dec.decode(m).demand.tolist() == [9.0, 6.0, 1.0]
    buf = np.array([1.0, 2.0, 3.0, 4.0])
    dec.decode(enc.encode(_obs(4, buf[:2], {})))
    buf[0] = 7.0  # the same buffer rewritten in place is outside the contract only for views
    m = enc.encode(_obs(5, np.array([7.0, 2.0, 3.0]), {}))  # a fresh array: compared, resets
    assert m["reset"] and dec.decode(m).demand.tolist() == [7.0, 2.0, 3.0]
