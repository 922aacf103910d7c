"""Every task module registers itself on import; importing this package loads them all."""

import importlib
import pkgutil

from xlt.tasks.spec import TASKS, TaskSpec, get_task, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "spec":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["TASKS", "TaskSpec", "get_task", "register"]
