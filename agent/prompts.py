"""The system prompt and the per-round workspace briefing.

The briefing is built from agent-visible material only: ``problem_description.md`` (which
carries the policy contract), the list of agent-visible files, and the search state the
loop passes in :class:`evolve.proposer.ProposalContext` (trusted replay costs, certificates
as safety LCBs, accept/reject feedback). Pool entries with origin ``refined`` (the best
policy of an earlier round, paper Sec. 5.3.2) are presented as extra baselines and written
into the episode's workspace copy under ``extra_baselines/`` so the agent can read and
benchmark them. Nothing from ``hidden/`` and no host path appears in any prompt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from evolve.proposer import PoolEntry, ProposalContext
from inventory.workspace import DESCRIPTION_FILE, agent_visible_files

EXTRA_DIR = "extra_baselines"
_SLUG = re.compile(r"[^A-Za-z0-9_]+")

SYSTEM_PROMPT = """\
You are an operations-research engineer who designs inventory replenishment policies as small,
readable Python files. You work alone in a copy of a workspace, through tools only:

- `shell`: run ONE bash command in the workspace (cwd = workspace root). Every command is one
  tool call. You have {budget} tool calls in total; a reply without a tool call also uses one.
- `submit`: submit a policy file (default `final_submit.py`) for scoring; this ends the episode.

Work in four phases:
1. Explore: read `problem_description.md` (the problem and the policy-file contract) and
   study `data/historical_sequence.json` (demand and features) with short Python one-liners.
2. Benchmark: run `python evaluation.py baseline_policies/<name>.py` on baselines (and on the
   files in `extra_baselines/` if there are any) to learn the cost to beat.
3. Develop: write candidate policy files, score each with `python evaluation.py FILE`, and
   refine the structure (e.g. caps, tilts, feature-driven targets) based on the costs.
4. Submit: copy your best policy to `final_submit.py` and call `submit`.

Rules:
- A policy is scored by a trusted evaluator outside your workspace, on the replay window and
  on later days you cannot see. Numbers you print, and any change you make to
  `evaluation.py` or the data, count for nothing; only the submitted file matters.
- Policies must follow the contract in `problem_description.md` exactly: a `PARAMS` dict (or
  `search_space(info)`) and `order(obs, params)`; only math/numpy/statistics imports; no
  file, network or process access. Prefer numpy (np.maximum, np.minimum, np.where).
- There is no internet. Keep command output short (use head, tail, or Python summaries).
- Submit before your calls run out. If you run out without submitting, `final_submit.py`
  (if it exists) is taken as your submission.
"""


@dataclass(frozen=True)
class ExtraBaseline:
    """A refined policy from an earlier round, written into the workspace copy."""

    rel_path: str
    entry: PoolEntry


def system_prompt(budget: int) -> str:
    return SYSTEM_PROMPT.format(budget=budget)


def extra_baselines(ctx: ProposalContext) -> list[ExtraBaseline]:
    """Pool entries that iterative refinement promoted into the baseline set, with file names."""
    out, seen = [], set()
    for e in ctx.pool:
        if e.origin != "refined":
            continue
        slug = _SLUG.sub("_", e.name).strip("_") or "policy"
        name = slug
        k = 2
        while name in seen:
            name, k = f"{slug}_{k}", k + 1
        seen.add(name)
        out.append(ExtraBaseline(f"{EXTRA_DIR}/{name}.py", e))
    return out


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _params(p: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in p.items()) or "-"


def target_cost(ctx: ProposalContext) -> tuple[str, float] | None:
    """Name and replay cost of the best entry among baselines and extra (refined) baselines."""
    pool = [e for e in ctx.pool if e.origin in ("baseline", "refined")]
    if not pool:
        return None
    best = min(pool, key=lambda e: e.replay_cost)
    return best.name, best.replay_cost


def briefing(ctx: ProposalContext, *, budget: int, feedback_items: int, extras: list[ExtraBaseline]) -> str:
    """The first user message of an episode."""
    ws = ctx.workspace
    description = (ws.root / DESCRIPTION_FILE).read_text(encoding="utf-8")
    files = [str(p) for p in agent_visible_files(ws.root)] + [x.rel_path for x in extras]
    lines = [
        f"# Round {ctx.round} of {ctx.rounds}: design a policy for workspace `{ws.name}`", "",
        f"You have {budget} tool calls. Files in your workspace:", "",
        *[f"- `{f}`" for f in sorted(files)], "",
        "## problem_description.md", "", description.strip(), "",
        "## Current policy pool (trusted replay costs per day; lower is better)", "",
        "| policy | origin | tuned parameters | replay cost/day | safety LCB vs reference | role |",
        "|---|---|---|---|---|---|",
    ]
    for e in sorted(ctx.pool, key=lambda e: e.replay_cost):
        role = []
        if e.candidate_id == ctx.champion_id:
            role.append("champion")
        if e.candidate_id == ctx.reference_id:
            role.append("reference")
        lines.append(f"| {e.name} | {e.origin} | {_params(e.params)} | {e.replay_cost:.4f} | {_fmt(e.safety_lcb)} | "
                     f"{', '.join(role) or '-'} |")
    if extras:
        lines += ["", "## Extra baselines from earlier rounds (iterative refinement)", "",
                  "These are the best policies found in earlier rounds. Treat them as additional baselines:",
                  "read them, benchmark them with evaluation.py, and try to improve on their structure.", ""]
        for x in extras:
            lines.append(f"- `{x.rel_path}`: {x.entry.name}, replay cost {x.entry.replay_cost:.4f}/day")
    fb = list(ctx.feedback)[-feedback_items:] if feedback_items else []
    if fb:
        lines += ["", "## Decisions on earlier proposals (most recent last)", ""]
        for f in fb:
            lines.append(f"- round {f.round}, {f.name}: {f.status}, replay cost {_fmt(f.replay_cost)}. {f.message}")
    tgt = target_cost(ctx)
    lines += [""]
    if tgt:
        lines.append(f"**Goal:** submit a policy whose tuned replay cost is strictly below {tgt[1]:.4f} "
                     f"(currently the best baseline, `{tgt[0]}`), and that generalises to the unseen days.")
    lines.append("Start by exploring. Remember: one command per tool call, and call `submit` when done.")
    return "\n".join(lines) + "\n"


NO_TOOL_CALL = ("Your reply contained no tool call, so nothing ran (this used one of your tool calls; "
                "{left} left). Call `shell` with one command, or `submit` when your policy is ready.")
BUDGET_WARNING = "[{left} tool calls left. Make sure final_submit.py exists and call submit before they run out.]"
