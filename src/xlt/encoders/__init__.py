"""Encoder families, one module each; each registers itself on import."""

from xlt.encoders.base import FAMILIES, Family, Layout, family_for, family_of, register
from xlt.registry import import_modules

import_modules(__name__, __path__, "base")

__all__ = ["FAMILIES", "Family", "Layout", "family_for", "family_of", "register"]
