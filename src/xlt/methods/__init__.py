"""Adaptation methods, one module each; each registers itself on import."""

from xlt.methods.base import METHODS, Encoder, EncoderOutput, Method, MethodOptions, get_method, register
from xlt.registry import import_modules

import_modules(__name__, __path__, "base")

__all__ = ["METHODS", "Encoder", "EncoderOutput", "Method", "MethodOptions", "get_method", "register"]
