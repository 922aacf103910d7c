"""xlt: what does a training recipe do to zero-shot cross-lingual transfer?

From Python: `xlt.run(config, **overrides)` and `xlt.load_study(directory)` (`xlt.api`); `xlt.DEMO_CONFIG` and
`xlt.QUICK_DEMO` are the built-in study and the overrides of `xlt demo --quick` (`xlt.demo`). They are imported on
first use, so that `import xlt` (and the CLI) stays light.
"""

from __future__ import annotations

from typing import Any

from xlt.runtime.machine import pin_cpu_kernels

pin_cpu_kernels()  # before anything imports torch: the same kernels, so the same numbers, on CPUs with AVX2

__version__ = "0.1.0"
_LAZY = {
    "run": "xlt.api",
    "load_study": "xlt.api",
    "StudyResults": "xlt.api",
    "DEMO_CONFIG": "xlt.demo",
    "QUICK_DEMO": "xlt.demo",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'xlt' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_LAZY[name]), name)
