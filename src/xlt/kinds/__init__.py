"""Task kinds, one module each; each registers itself on import."""

from xlt.kinds.base import KINDS, HeadOptions, Kind, get_kind, register
from xlt.registry import import_modules

import_modules(__name__, __path__, "base")

__all__ = ["KINDS", "HeadOptions", "Kind", "get_kind", "register"]
