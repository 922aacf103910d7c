"""Encoder families, one module each; each registers itself on import."""

import importlib
import pkgutil

from xlt.encoders.base import FAMILIES, Family, Layout, family_of, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["FAMILIES", "Family", "Layout", "family_of", "register"]
