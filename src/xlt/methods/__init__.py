"""Adaptation methods, one module each; each registers itself on import."""

import importlib
import pkgutil

from xlt.methods.base import METHODS, Encoder, EncoderOutput, Method, MethodOptions, get_method, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["METHODS", "Encoder", "EncoderOutput", "Method", "MethodOptions", "get_method", "register"]
