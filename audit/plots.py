"""The audit's figures (matplotlib, Agg), embedded in the HTML report as base64 PNG.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state), so the
audit is safe to call from any thread and leaves no global figure behind.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from matplotlib.figure import Figure

from audit.model import Plot
from audit.policies import Trajectory

CAND, REF = "#1f6fb4", "#d9822b"


def _encode(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _split_line(ax, n_replay: int, n_total: int) -> None:
    if n_total > n_replay:
        ax.axvspan(n_replay - 0.5, n_total - 0.5, color="0.92", zorder=0)
        ax.axvline(n_replay - 0.5, color="0.5", lw=0.8, ls="--")


def trajectories(cand: Trajectory, ref: Trajectory, n_replay: int, ref_name: str) -> Plot:
    fig = Figure(figsize=(10, 7.2), layout="constrained")
    axes = fig.subplots(4, 1, sharex=True)
    days = np.arange(len(cand.orders))
    series = (("on hand (end of day)", cand.on_hand_end, ref.on_hand_end),
              ("in transit (end of day)", cand.in_transit, ref.in_transit),
              ("order", cand.orders, ref.orders), ("lost sales", cand.lost, ref.lost))
    for ax, (label, c, r) in zip(axes, series):
        _split_line(ax, n_replay, len(days))
        ax.step(days, r, where="mid", color=REF, lw=1.1, label=f"reference ({ref_name})")
        ax.step(days, c, where="mid", color=CAND, lw=1.1, label="candidate")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8, ncol=2)
    axes[-1].set_xlabel("day (shaded: test window)" if len(days) > n_replay else "day (replay window)")
    fig.suptitle("State and decisions over replay and test, candidate vs reference", fontsize=10)
    caption = ("Trusted day-by-day replay of both policies on the same days; the shaded part is the forward (test) "
               "window, revealed one day at a time after each decision.")
    return Plot("trajectories", "On hand, pipeline, orders and lost sales", caption, _encode(fig))


def daily_gain(cand_costs: np.ndarray, ref_costs: np.ndarray, n_replay: int, cert: dict | None) -> Plot:
    gain = np.asarray(ref_costs) - np.asarray(cand_costs)
    days = np.arange(len(gain))
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax = fig.subplots()
    _split_line(ax, n_replay, len(days))
    ax.vlines(days, 0, gain, colors=np.where(gain >= 0, "#3a9a5b", "#c0392b"), lw=2.5, alpha=0.6, label="daily gain")
    running = np.cumsum(gain[:n_replay]) / np.arange(1, min(n_replay, len(gain)) + 1)
    ax.plot(days[:n_replay], running, color="k", lw=1.4, label="running mean (replay)")
    ax.axhline(0, color="0.3", lw=0.8)
    if cert:
        for key, style, label in (("mean_gain", "-", "certificate mean"), ("lcb", "--", "LCB"), ("ucb", ":", "UCB")):
            if isinstance(cert.get(key), (int, float)):
                ax.axhline(cert[key], color="#6c3483", ls=style, lw=1.2, label=f"{label} {cert[key]:+.3g}")
        if isinstance(cert.get("lcb"), (int, float)) and isinstance(cert.get("eps"), (int, float)) and cert["eps"] > 0:
            ax.axhline(cert["lcb"] - cert["eps"], color="#6c3483", ls="-.", lw=1, label="LCB - eps")
    ax.set_xlabel("day")
    ax.set_ylabel("reference cost - candidate cost")
    ax.legend(fontsize=7, ncol=3, loc="lower left")
    ax.grid(alpha=0.3)
    caption = ("Positive bars: the candidate was cheaper that day. The certificate's bounds (safety certificate vs the "
               "reference) are drawn where one exists; they refer to the days the certificate's gains came from.")
    return Plot("daily_gain", "Daily gain vs the reference", caption, _encode(fig))


def response_curve(curves: dict[str, dict[str, list]], cap: float, day: int) -> Plot:
    fig = Figure(figsize=(7.5, 4), layout="constrained")
    ax = fig.subplots()
    for family, curve in curves.items():
        ls = "-" if family == "on_hand" else "--"
        pos = np.array(curve["position"], dtype=float)
        for key, color, label in (("candidate", CAND, "candidate"), ("reference", REF, "reference")):
            q = np.array([np.nan if v is None else v for v in curve[key]], dtype=float)
            ax.plot(pos, q, ls=ls, color=color, marker=".", lw=1.3, label=f"{label} ({family.replace('_', ' ')})")
    ax.axhline(cap, color="#c0392b", lw=0.9, ls=":", label=f"stated cap {cap:g}")
    ax.set_xlabel("inventory position")
    ax.set_ylabel("order")
    ax.set_title(f"Order vs inventory position on day {day}", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    caption = ("Raw orders from the sandboxed policy on the probe grid (history and features of that replay day); "
               "'split' puts half of the position in the pipeline.")
    return Plot("response", "Order-versus-position response", caption, _encode(fig))


def stress_bars(rows: Sequence[tuple[str, float | None, float | None]]) -> Plot:
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(rows))
    cand = [np.nan if c is None else c for _, c, _ in rows]
    ref = [np.nan if r is None else r for _, _, r in rows]
    ax.bar(x - 0.2, ref, 0.4, color=REF, label="reference")
    ax.bar(x + 0.2, cand, 0.4, color=CAND, label="candidate")
    for i, (c, r) in enumerate(zip(cand, ref)):
        label = "failed" if np.isnan(c) else f"{(c - r) / r:+.0%}" if r else ""
        ax.annotate(label, (i + 0.2, 0 if np.isnan(c) else c), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [t for t, _, _ in rows], rotation=15, fontsize=8)
    ax.set_ylabel("mean cost per day")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    caption = "Both policies replayed on the same altered replay window; labels give the candidate's change vs the reference."
    return Plot("stress", "Stress replays", caption, _encode(fig))


def long_horizon(cand: Trajectory, ref: Trajectory | None) -> Plot:
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    days = np.arange(len(cand.orders))
    if ref is not None:
        top.plot(days, ref.position, color=REF, lw=0.6, alpha=0.7, label="reference")
        bottom.plot(days, ref.orders, color=REF, lw=0.6, alpha=0.7)
    top.plot(days, cand.position, color=CAND, lw=0.7, label="candidate")
    bottom.plot(days, cand.orders, color=CAND, lw=0.7)
    top.set_ylabel("position", fontsize=8)
    bottom.set_ylabel("order", fontsize=8)
    bottom.set_xlabel("day of the long replay")
    top.legend(fontsize=7)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    caption = "Weekday-aligned bootstrap of the replay window; a stable rule keeps its state level from start to end."
    return Plot("long_horizon", "Long-horizon replay", caption, _encode(fig))


def sensitivity(rows: Sequence[dict]) -> Plot:
    fig = Figure(figsize=(7.5, 0.8 + 0.32 * max(len(rows), 2)), layout="constrained")
    ax = fig.subplots()
    labels = [f"{r['param']} {r['value']:.3g} -> {r['perturbed']:.3g}" for r in rows]
    change = [100 * r["change"] for r in rows]
    ax.barh(np.arange(len(rows)), change, color=["#c0392b" if c > 0 else "#3a9a5b" for c in change])
    ax.set_yticks(np.arange(len(rows)), labels, fontsize=7)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("replay cost change (%)")
    ax.grid(alpha=0.3, axis="x")
    caption = "Each tuned parameter moved by the stated fraction, one at a time, replayed on the replay window."
    return Plot("sensitivity", "Cost sensitivity to parameter perturbations", caption, _encode(fig))


@dataclass
class FigureData:
    """Everything the audit's figures are drawn from (kept apart so probes never pay for drawing)."""

    candidate: Trajectory
    reference: Trajectory
    n_replay: int
    reference_name: str
    safety: dict[str, Any] | None
    curves: dict[str, dict[str, list]]
    cap: float
    day: int
    long_candidate: Trajectory | None
    long_reference: Trajectory | None
    sensitivity: list[dict[str, Any]]


def render(data: FigureData, stress: Sequence[tuple[str, float | None, float | None]]) -> list[Plot]:
    out = [trajectories(data.candidate, data.reference, data.n_replay, data.reference_name),
           daily_gain(data.candidate.costs, data.reference.costs, data.n_replay, data.safety),
           response_curve(data.curves, data.cap, data.day)]
    if stress:
        out.append(stress_bars(stress))
    if data.long_candidate is not None:
        out.append(long_horizon(data.long_candidate, data.long_reference))
    if data.sensitivity:
        out.append(sensitivity(data.sensitivity))
    return out
