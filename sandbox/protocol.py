"""Wire format between the trusted host and the sandboxed worker.

Frames are a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (Python's
``json``, which round-trips every float exactly through ``repr`` and accepts NaN/Infinity).
Nothing coming out of a sandbox is ever unpickled or evaluated: the trusted side only
parses JSON and then checks types and shapes (:func:`check_costs`, :func:`check_order`).

Codecs here turn a :class:`~inventory.replay.ReplayProblem` and an
:class:`~inventory.observation.Observation` into plain JSON values and back, preserving
dtypes, so the worker replays with exactly the arrays an in-process host would use.
"""
from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Mapping

import numpy as np

from inventory.observation import Observation
from inventory.sequence import Availability, CostModel, DemandSequence, FeatureKind, FeatureSpec
from inventory.simulator import InitialState

if TYPE_CHECKING:  # the worker must not import inventory.replay (it pulls in optuna and scipy)
    from inventory.replay import ReplayProblem

MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")
_DTYPES = {"float64", "int64", "bool", "float32", "int32"}


class ProtocolError(Exception):
    """A malformed, oversized or truncated frame: the peer is broken or hostile."""


def encode(msg: Any) -> bytes:
    body = json.dumps(msg, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"invalid JSON frame: {exc}") from exc


def read_exact_fd(fd: int, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError("peer closed the pipe")
        buf += chunk
    return bytes(buf)


def read_frame_fd(fd: int, max_frame: int = MAX_FRAME) -> Any:
    (n,) = _HEADER.unpack(read_exact_fd(fd, 4))
    if n > max_frame:
        raise ProtocolError(f"frame of {n} bytes exceeds {max_frame}")
    return decode_body(read_exact_fd(fd, n))


def write_frame_fd(fd: int, msg: Any) -> None:
    data = memoryview(encode(msg))
    while data:
        k = os.write(fd, data)
        data = data[k:]


def write_frame_file(fh: BinaryIO, msg: Any) -> None:
    fh.write(encode(msg))
    fh.flush()


class FrameBuffer:
    """Reassembles length-prefixed frames from arbitrary chunks."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.buf = bytearray()
        self.max_frame = max_frame

    def pop(self) -> Any | None:
        if len(self.buf) < 4:
            return None
        (n,) = struct.unpack(">I", self.buf[:4])
        if n > self.max_frame:
            raise ProtocolError(f"frame of {n} bytes exceeds {self.max_frame}")
        if len(self.buf) < 4 + n:
            return None
        body = bytes(self.buf[4:4 + n])
        del self.buf[:4 + n]
        return decode_body(body)


def write_all(fd: int, data: bytes, deadline: float) -> None:
    """Write ``data`` to a (possibly blocking) fd, giving up at ``deadline`` (monotonic)."""
    view = memoryview(data)
    was_blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    try:
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("peer did not read its input in time")
            _, w, _ = select.select([], [fd], [], left)
            if not w:
                continue
            try:
                k = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[k:]
    finally:
        try:
            os.set_blocking(fd, was_blocking)
        except OSError:
            pass


# ---------------------------------------------------------------- arrays


def encode_array(a: np.ndarray) -> dict[str, Any]:
    arr = np.asarray(a)
    if arr.dtype == object:
        return {"dtype": "object", "values": [v if isinstance(v, str) else _scalar(v) for v in arr.tolist()]}
    name = str(arr.dtype)
    if name not in _DTYPES:
        arr, name = arr.astype(float), "float64"
    return {"dtype": name, "shape": list(arr.shape), "values": arr.reshape(-1).tolist()}


def _scalar(v: Any) -> Any:
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def decode_array(d: Mapping[str, Any]) -> np.ndarray:
    dtype = d["dtype"]
    if dtype == "object":
        out = np.empty(len(d["values"]), dtype=object)
        out[:] = d["values"]
        return out
    if dtype not in _DTYPES:
        raise ProtocolError(f"dtype {dtype!r} not allowed")
    return np.array(d["values"], dtype=dtype).reshape(d.get("shape", [-1]))


def encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): encode_array(np.asarray(v)) for k, v in params.items()}


def decode_params(d: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return {k: decode_array(v) for k, v in d.items()}


def encode_scalar_params(params: Mapping[str, float]) -> dict[str, Any]:
    """Scalar parameters keep their Python type (int stays int, float stays float)."""
    out = {}
    for k, v in params.items():
        if isinstance(v, (bool, np.bool_)):
            out[str(k)] = bool(v)
        elif isinstance(v, (int, np.integer)):
            out[str(k)] = int(v)
        else:
            out[str(k)] = float(v)
    return out


# ---------------------------------------------------------------- problem


def encode_problem(problem: "ReplayProblem") -> dict[str, Any]:
    seq = problem.seq
    return {
        "dates": list(seq.dates),
        "demand": encode_array(seq.demand),
        "features": {k: encode_array(v) for k, v in seq.features.items()},
        "specs": [{"name": s.name, "kind": s.kind.value, "availability": s.availability.value,
                   "horizon": s.horizon, "description": s.description} for s in problem.specs],
        "model": {"h": problem.model.h, "p": problem.model.p, "lead_time": problem.model.lead_time,
                  "integer_orders": problem.model.integer_orders},
        "init": {"on_hand": problem.init.on_hand, "pipeline": list(problem.init.pipeline)},
    }


def decode_problem(d: Mapping[str, Any]) -> tuple[DemandSequence, tuple[FeatureSpec, ...], CostModel, InitialState]:
    """(seq, specs, model, init): the fields of a ReplayProblem, without importing it."""
    seq = DemandSequence(list(d["dates"]), decode_array(d["demand"]),
                         {k: decode_array(v) for k, v in d["features"].items()})
    specs = tuple(FeatureSpec(s["name"], FeatureKind(s["kind"]), Availability(s["availability"]),
                              int(s["horizon"]), s.get("description", "")) for s in d["specs"])
    m = d["model"]
    model = CostModel(m["h"], m["p"], m["lead_time"], m["integer_orders"])
    init = InitialState(d["init"]["on_hand"], tuple(d["init"]["pipeline"]))
    return seq, specs, model, init


# ---------------------------------------------------------------- observations


class _Growing:
    """An append-only array with amortised O(1) appends; ``view()`` is a read-only prefix view.

    Entries once appended are never rewritten, so views handed out earlier stay valid.
    """

    def __init__(self, first: np.ndarray):
        self._buf = first.copy()
        self._n = len(first)

    def append(self, new: np.ndarray) -> None:
        if not len(new):
            return
        dtype = self._buf.dtype if self._n else new.dtype
        need = self._n + len(new)
        if need > len(self._buf) or dtype != self._buf.dtype:
            buf = np.empty(max(need, 2 * len(self._buf), 16), dtype=dtype)
            buf[: self._n] = self._buf[: self._n]
            self._buf = buf
        self._buf[self._n:need] = new
        self._n = need

    def view(self) -> np.ndarray:
        v = self._buf[: self._n].view()
        v.flags.writeable = False
        return v


class ObservationEncoder:
    """Sends an observation as a delta against what this peer was already sent.

    Observations of one replay only grow (``demand`` and every feature are prefixes of
    the sequence), so after the first call only the new entries travel. Any observation
    that is not an extension of the previous one (a new replay, or ``t`` going back)
    resets the peer's buffers. Only values the Observation itself holds are sent.

    Checking the extension costs O(1) per day when consecutive observations are views of
    one buffer at the same address (the simulator's :class:`~inventory.observation.Reveal`,
    which writes each day once and never rewrites a revealed one: that is the contract of
    such views); any other demand array is compared entry by entry with this encoder's own
    copy of what it sent, so a caller that hands over fresh arrays is still exact.
    """

    def __init__(self) -> None:
        self._demand_len = 0
        self._feat_len: dict[str, int] = {}
        self._last_t = -1
        self._last_demand: np.ndarray | None = None   # only for its buffer's identity
        self._sent: _Growing | None = None            # what the peer holds

    def _extends(self, demand: np.ndarray) -> bool:
        last, n = self._last_demand, self._demand_len
        if last is None or self._sent is None or len(demand) < n:
            return False
        if n == 0:
            return True
        if (demand.base is not None and demand.base is last.base and demand.strides == last.strides
                and demand.__array_interface__["data"][0] == last.__array_interface__["data"][0]):
            return True
        return bool(np.array_equal(demand[:n], self._sent.view(), equal_nan=True))

    def encode(self, obs: Observation) -> dict[str, Any]:
        demand = np.asarray(obs.demand)
        feats = {k: np.asarray(v) for k, v in obs.features.items()}
        reset = (
            obs.t <= self._last_t or set(feats) != set(self._feat_len)
            or any(len(v) < self._feat_len.get(k, 0) for k, v in feats.items())
            or not self._extends(demand)
        )
        if reset:
            self._demand_len, self._feat_len = 0, {k: 0 for k in feats}
        msg = {
            "reset": bool(reset), "t": int(obs.t), "date": str(obs.date),
            "on_hand": float(obs.on_hand), "position": float(obs.position),
            "pipeline": encode_array(np.asarray(obs.pipeline, dtype=float)),
            "h": obs.h, "p": obs.p, "lead_time": int(obs.lead_time),
            "demand_new": encode_array(demand[self._demand_len:]),
            "features_new": {k: encode_array(v[self._feat_len[k]:]) for k, v in feats.items()},
        }
        new = np.asarray(demand[self._demand_len:], dtype=float)
        if reset or self._sent is None:
            self._sent = _Growing(new)
        else:
            self._sent.append(new)
        self._demand_len = len(demand)
        self._feat_len = {k: len(v) for k, v in feats.items()}
        self._last_t = int(obs.t)
        self._last_demand = demand  # keeps its buffer alive: the address cannot be reused
        return msg


class ObservationDecoder:
    """The worker-side mirror of :class:`ObservationEncoder`."""

    def __init__(self) -> None:
        self._demand: _Growing | None = None
        self._features: dict[str, _Growing] = {}

    def decode(self, msg: Mapping[str, Any]) -> Observation:
        if msg["reset"]:
            self._demand = None
            self._features = {}
        new_d = decode_array(msg["demand_new"]).astype(float, copy=False)
        if self._demand is None:
            self._demand = _Growing(new_d)
        else:
            self._demand.append(new_d)
        for k, enc in msg["features_new"].items():
            new = decode_array(enc)
            old = self._features.get(k)
            if old is None:
                self._features[k] = _Growing(new)
            else:
                old.append(new)
        return Observation(
            t=msg["t"], date=msg["date"], on_hand=float(msg["on_hand"]),
            pipeline=decode_array(msg["pipeline"]), position=float(msg["position"]),
            demand=self._demand.view(), features={k: v.view() for k, v in self._features.items()},
            h=msg["h"], p=msg["p"], lead_time=msg["lead_time"],
        )


# ---------------------------------------------------------------- checks on replies


def check_costs(values: Any, n: int) -> np.ndarray:
    """Validate a mean-costs reply from the sandbox: a list of ``n`` numbers."""
    if not isinstance(values, list) or len(values) != n:
        raise ProtocolError(f"expected a list of {n} costs")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ProtocolError("costs must be numbers")
    return np.array(values, dtype=float)


def check_order(value: Any) -> float:
    """Validate an order reply: a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError("order must be a number")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ProtocolError(f"order {v!r} is not a finite number >= 0")
    return v
