"""Render ``problem_description.md``: the human- and LLM-readable brief of a workspace."""
from __future__ import annotations

from typing import Mapping, TYPE_CHECKING

import numpy as np

from inventory.sequence import Availability, DemandSequence

if TYPE_CHECKING:
    from inventory.workspace import BaselineRecord, WorkspaceSpec

POLICY_CONTRACT = '''\
## How to write a policy

A policy is one Python file. It declares its tunable parameters and an `order` function:

```python
import numpy as np

# (low, high) floats; add "int" or "log" as a third entry. Or define
# `def search_space(info)` returning the same dict, using info.mean_demand,
# info.std_demand, info.max_demand, info.lead_time, info.h, info.p, info.n_days.
PARAMS = {"S": (0.0, 60.0), "r": (0.0, 30.0)}

def order(obs, params):
    """Return today's order quantity (>= 0)."""
    gap = np.maximum(params["S"] - obs.position, 0.0)
    return np.minimum(gap, params["r"])
```

`obs` holds what is known when today's order is placed:
- `obs.t` (today's index), `obs.date`;
- `obs.on_hand` (after today's arrival), `obs.pipeline` (outstanding orders, oldest first),
  `obs.position` (= on_hand + pipeline total);
- `obs.demand`: demand of days `0 .. t-1` (today's demand is not known yet);
- `obs.features[name]`: feature values by day index, up to what is visible today (see the
  table: `same_day` and `known_ahead` features include `features[name][obs.t]`);
- `obs.h`, `obs.p`, `obs.lead_time`.

Write it with numpy (`np.maximum`, `np.minimum`, `np.where`) and it is evaluated for many
parameter sets at once; plain scalar Python (`if`, `max`, `min`) also works, more slowly.
Only `math`, `numpy`, `statistics` and similar pure modules may be imported. Orders must be
finite and non-negative; count demand is ordered in whole units (orders are rounded).

Score a policy on the replay window: `python evaluation.py my_policy.py`. Submit the best
one as `final_submit.py`.
'''


def render_description(spec: "WorkspaceSpec", replay: DemandSequence, baselines: Mapping[str, "BaselineRecord"]) -> str:
    pr = spec.problem
    d = replay.demand
    zero = float(np.mean(d == 0)) if len(d) else 0.0
    lines = [
        f"# {pr.item} ({pr.domain})", "",
        pr.context or "Daily replenishment of one item under lost sales.", "",
        "## Problem", "",
        f"- Holding cost h = {pr.h:g} per unit left at the end of a day; lost-sales penalty p = {pr.p:g} per unit short.",
        f"- Lead time L = {pr.lead_time}: an order placed on day t arrives at the start of day t + {pr.lead_time}.",
        "- Each day: the due order arrives, you order, demand happens, unmet demand is lost,",
        "  cost = h * on_hand_at_day_end + p * lost. The objective is the average cost per day.",
        f"- Demand unit: {pr.unit}. Replay window: {pr.replay_days} days ({replay.dates[0]} to {replay.dates[-1]}) "
        f"in `data/historical_sequence.json`; your policy is then run on the next {pr.forward_days} days, which you cannot see.",
        f"- Start: {spec.initial.on_hand:g} units on hand; arriving on days 0..: {list(spec.initial.pipeline)}.",
        f"- Replay demand: mean {d.mean():.2f}, sd {d.std():.2f}, max {d.max():g}, share of zero days {zero:.0%}.",
        *([f"- Declared demand model (`[demand_model]` in workspace.toml): {_model_text(spec.demand_model)}."]
          if spec.demand_model is not None else []),
        "", "## Features", "",
        "| name | kind | visible when deciding on day t | description |", "|---|---|---|---|",
    ]
    for f in spec.features:
        when = {Availability.AFTER_DAY: "days 0..t-1", Availability.SAME_DAY: "days 0..t",
                Availability.KNOWN_AHEAD: f"days 0..t+{f.horizon}"}[f.availability]
        lines.append(f"| `{f.name}` | {f.kind.value} | {when} | {f.description} |")
    if not spec.features:
        lines.append("| (none) | | | |")
    lines += ["", "## Baselines (pre-tuned on the replay window)", "",
              "| policy | tuned parameters | replay cost/day |", "|---|---|---|"]
    for name, rec in baselines.items():
        params = ", ".join(f"{k}={v:.3g}" for k, v in rec.params.items())
        lines.append(f"| `baseline_policies/{name}.py` | {params} | {rec.replay_cost:.4f} |")
    lines += ["", POLICY_CONTRACT]
    return "\n".join(lines) + "\n"


def _model_text(model) -> str:
    params = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in model.params)
    extra = (" rounded" if model.round else "") + (f", capped at {model.max_demand:g}" if model.max_demand else "")
    return f"{model.law.value} ({params}){extra}"
