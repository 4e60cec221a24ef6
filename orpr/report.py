"""Table-1 outputs: a Markdown table, a CSV and a PNG, with the paper's figures beside ours.

:func:`bench_orpr` is the one call a ``bench orpr`` command needs: output folder and
options in, the three files (and ``categories.csv``) out. The Markdown is a pure function
of the result and the commit it came from, so ``docs/orpr.md`` can carry it verbatim.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from inventory.provenance import code_commit
from orpr.experiment import (
    NORMALISED_TOTAL, PAPER_TABLE1, Method, Table1Options, Table1Result, Window, run_table1,
)
from orpr.portfolio import load_portfolio

log = logging.getLogger(__name__)

__all__ = ["Table1Files", "table1_markdown", "write_table1", "bench_orpr", "commit_stamp"]

ROWS = (Method.OR, Method.PTO_NORMAL, Method.PTO_GAMMA, Method.BM_50, Method.BM_85, Method.INCUMBENT,
        Method.OR_QUANTITY)
WINDOW_TITLE = {Window.REPLAY: "replay window (paper protocol: OR labels computed on this history)",
                Window.FORWARD: "forward window (out of sample for the OR choice)"}


@dataclass(frozen=True)
class Table1Files:
    markdown: Path
    csv: Path
    png: Path
    categories: Path


def commit_stamp(repo: Path | None = None) -> str:
    """Short commit of the code that ran (``+dirty`` when the tree has changes), or 'unknown'."""
    return code_commit(repo=repo) or "unknown"


def _rel(x: float, base: str) -> str:
    if round(x, 2) == 0:
        return base + "±0.00"
    return f"{base}{x:+.2f}"


def _paper_cells(m: Method) -> list[str]:
    row = PAPER_TABLE1.get(m)
    if row is None:
        return ["—"] * 4
    if m is Method.OR:
        return ["X", "Y", f"{row.holding:.0f} / {row.stockout:.0f}", f"{row.total:.0f}"]
    return [_rel(row.turnover_delta, "X"), _rel(row.instock_delta_pct, "Y") + "%",
            f"{row.holding:.0f} / {row.stockout:.0f}",
            f"{row.total:.0f}" + (f" ({row.printed_change})" if row.printed_change else "")]


def table1_markdown(result: Table1Result, *, command: str = "", stamp: str = "") -> str:
    """The experiment's tables as Markdown (one per window), paper beside ours."""
    o = result.options
    target = "each category's incumbent turnover" if o.target_turnover is None else f"{o.target_turnover:g} days"
    lines = [
        f"ORPR Table 1 on {result.n_skus} SKUs in {result.n_categories} categories ({o.level.value}) of "
        f"`{result.source}`; review period R = {o.review_period}, recent-mean window {o.mean_window} days, "
        f"alpha_loss calibrated per category to {target}. Costs normalised so that the OR label's total is "
        f"{NORMALISED_TOTAL:.0f} (the paper's normalisation); X, Y = the OR label's turnover days and in-stock rate.",
    ]
    if command or stamp:
        lines.append("")
        lines.append(f"Produced by `{command}`" + (f" at commit `{stamp}`" if stamp else "") +
                     f" in {result.seconds:.0f} s.")
    for window in Window:
        m = result.metrics[window]
        scale = result.scale(window)
        x, y = m[Method.OR].turnover_days, m[Method.OR].instock_rate
        lines += ["", f"**{WINDOW_TITLE[window]}** — X = {x:.2f} days, Y = {100 * y:.1f}%; OR below both PTO "
                  f"variants: **{'yes' if result.reproduces_direction(window) else 'no'}**", "",
                  "| method | turnover (ours) | in-stock (ours) | holding / stockout (ours) | total (ours) "
                  "| turnover (paper) | in-stock (paper) | holding / stockout (paper) | total (paper) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for meth in ROWS:
            r = m[meth]
            total = r.total * scale
            pct = "" if meth is Method.OR else f" ({(total / NORMALISED_TOTAL - 1) * 100:+.0f}%)"
            turn = "X" if meth is Method.OR else _rel(r.turnover_days - x, "X")
            inst = "Y" if meth is Method.OR else _rel(100 * (r.instock_rate - y), "Y") + "%"
            paper_name = PAPER_TABLE1[meth].name if meth in PAPER_TABLE1 else ""
            name = meth.label + (f" ({paper_name})" if paper_name and paper_name not in meth.label else "")
            lines.append(f"| {name} | {turn} | {inst} | {r.holding * scale:.0f} / {r.stockout * scale:.0f} | "
                         f"{total:.0f}{pct} | " + " | ".join(_paper_cells(meth)) + " |")
    return "\n".join(lines) + "\n"


def _write_csv(result: Table1Result, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["window", "method", "turnover_days", "instock_rate", "holding", "stockout", "total",
                    "holding_norm", "stockout_norm", "total_norm", "paper_turnover_delta", "paper_instock_delta_pct",
                    "paper_holding", "paper_stockout", "paper_total"])
        for window in Window:
            scale = result.scale(window)
            for meth in ROWS:
                r = result.metrics[window][meth]
                p = PAPER_TABLE1.get(meth)
                paper = [p.turnover_delta, p.instock_delta_pct, p.holding, p.stockout, p.total] if p else [""] * 5
                w.writerow([window.value, meth.value, f"{r.turnover_days:.6f}", f"{r.instock_rate:.6f}",
                            f"{r.holding:.4f}", f"{r.stockout:.4f}", f"{r.total:.4f}", f"{r.holding * scale:.2f}",
                            f"{r.stockout * scale:.2f}", f"{r.total * scale:.2f}", *paper])


def _write_categories(result: Table1Result, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["rule", "category", "n_skus", "target_turnover", "alpha_loss", "turnover_days", "mean_v"])
        for c in result.categories:
            w.writerow([c.rule.value, c.category, c.n_skus, f"{c.target_turnover:.6f}", f"{c.alpha_loss:.8f}",
                        f"{c.turnover_days:.6f}", f"{c.mean_v:.4f}"])


def _write_png(result: Table1Result, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [m for m in ROWS if m in PAPER_TABLE1]
    panels = [("paper (JD.com, Table 1)", {m: (PAPER_TABLE1[m].holding, PAPER_TABLE1[m].stockout) for m in methods},
               [PAPER_TABLE1[m].total for m in methods])]
    for window in Window:
        s = result.scale(window)
        data = {m: (result.metrics[window][m].holding * s, result.metrics[window][m].stockout * s) for m in methods}
        panels.append((f"ours: {window.value} window", data, [a + b for a, b in data.values()]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2), sharey=True)
    names = [PAPER_TABLE1[m].name for m in methods]
    for ax, (title, data, totals) in zip(axes, panels):
        hold = [data[m][0] for m in methods]
        stock = [data[m][1] for m in methods]
        ax.bar(names, hold, color="#4c72b0", label="holding")
        ax.bar(names, stock, bottom=hold, color="#dd8452", label="stockout")
        for i, (a, b, total) in enumerate(zip(hold, stock, totals)):
            ax.text(i, a + b, f"{total:.0f}", ha="center", va="bottom", fontsize=8)
        ax.axhline(NORMALISED_TOTAL, color="grey", lw=0.8, ls="--")
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    axes[0].set_ylabel(f"cost (OR label total = {NORMALISED_TOTAL:.0f})")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"ORPR Table 1: {result.n_skus} SKUs, R = {result.options.review_period}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_table1(result: Table1Result, out: str | Path, *, command: str = "", stamp: str = "") -> Table1Files:
    """Write ``table1.md``, ``table1.csv``, ``table1.png`` and ``categories.csv`` into ``out``."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    files = Table1Files(root / "table1.md", root / "table1.csv", root / "table1.png", root / "categories.csv")
    files.markdown.write_text(table1_markdown(result, command=command, stamp=stamp), encoding="utf-8")
    _write_csv(result, files.csv)
    _write_categories(result, files.categories)
    _write_png(result, files.png)
    return files


def bench_orpr(out: str | Path, options: Table1Options = Table1Options(), *, suite: str | Path,
               limit: int | None = None, command: str = "") -> tuple[Table1Result, Table1Files]:
    """Load the portfolio, run the experiment, write its files; the entry point of ``bench orpr``."""
    portfolio = load_portfolio(suite, level=options.level, limit=limit)
    result = run_table1(portfolio, options)
    files = write_table1(result, out, command=command, stamp=commit_stamp())
    log.info("orpr table 1: %d SKUs in %.1f s -> %s", result.n_skus, result.seconds, files.markdown)
    return result, files
