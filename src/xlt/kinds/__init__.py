"""Task kinds, one module each; each registers itself on import."""

import importlib
import pkgutil

from xlt.kinds.base import KINDS, HeadOptions, Kind, get_kind, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["KINDS", "HeadOptions", "Kind", "get_kind", "register"]
