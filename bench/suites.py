"""Which workspaces an experiment runs on, and how they are grouped in its table.

A suite is a folder written by ``invevolve datagen``: ``suite.json`` (one row per
workspace) and, for the synthetic and CJ suites, ``splits/standard.json`` (the test split
the paper's tables are computed on). Every problem with them is a :class:`ConfigError`
that names the file and the field.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from inventory.errors import ConfigError

SUITE_FILE = "suite.json"
SPLIT_FILE = Path("splits") / "standard.json"
_CLASSICAL = re.compile(r"^classical_(?P<dist>[a-z]+)_L(?P<L>\d+)_p(?P<p>\d+)$")


class SuiteKind(str, Enum):
    SYNTHETIC = "synthetic"
    CJ = "cj"
    CLASSICAL = "classical"


@dataclass(frozen=True)
class SuiteEntry:
    """One workspace of an experiment: its folder, its table group and, for exp1, whether
    its domain is out of distribution (never seen in training)."""

    name: str
    path: str
    group: str
    group_label: str
    ood: bool = False

    def classical_key(self) -> tuple[str, int, int]:
        """(distribution, L, p) parsed from a classical workspace name."""
        m = _CLASSICAL.match(self.name)
        if m is None:
            raise ConfigError(f"{self.path}: workspace name {self.name!r} is not classical_<dist>_L<L>_p<p>")
        return m["dist"], int(m["L"]), int(m["p"])


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (build the suite with `invevolve datagen`)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as JSON: {exc}") from exc


def _field(table: Any, key: str, typ: type, where: str) -> Any:
    if not isinstance(table, dict) or key not in table:
        raise ConfigError(f"{where}: missing field '{key}'")
    value = table[key]
    if not isinstance(value, typ):
        raise ConfigError(f"{where}: field '{key}' must be {typ.__name__}, got {type(value).__name__}")
    return value


def load_suite(kind: SuiteKind, root: str | Path, *, split: str | None = "test") -> list[SuiteEntry]:
    """The ``split`` list of the suite in name order (synthetic, CJ), or every workspace in the
    suite's own order (classical: distribution, then L, then p, cheapest first)."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: suite folder not found")
    index_path = root / SUITE_FILE
    index = _read_json(index_path)
    rows = _field(index, "workspaces", list, str(index_path))
    by_name: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows):
        by_name[_field(row, "name", str, f"{index_path}: workspaces[{i}]")] = row
    if kind is SuiteKind.CLASSICAL or split is None:
        names, ood_domains = list(by_name), set()
    else:
        split_path = root / SPLIT_FILE
        splits = _read_json(split_path)
        names = sorted(_field(splits, split, list, str(split_path)))
        ood_domains = set(splits.get("ood_domains", [])) if kind is SuiteKind.SYNTHETIC else set()
    out = []
    for name in names:
        if name not in by_name:
            raise ConfigError(f"{root / SPLIT_FILE}: workspace {name!r} of split '{split}' is not in {index_path}")
        row, where = by_name[name], f"{index_path}: workspace {name!r}"
        path = root / name
        if not (path / "workspace.toml").is_file():
            raise ConfigError(f"{path}: workspace folder missing (listed in {index_path})")
        if kind is SuiteKind.SYNTHETIC:
            domain = _field(row, "domain", str, where)
            entry = SuiteEntry(name, str(path), domain, _field(row, "domain_title", str, where), domain in ood_domains)
        elif kind is SuiteKind.CJ:
            dept = _field(row, "domain", str, where)
            entry = SuiteEntry(name, str(path), dept, dept)
        else:
            dist = _field(row, "distribution", str, where)
            entry = SuiteEntry(name, str(path), dist, dist)
            entry.classical_key()
        out.append(entry)
    return out
