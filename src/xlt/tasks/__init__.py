"""Every task module registers itself on import; importing this package loads them all."""

from xlt.registry import import_modules
from xlt.tasks.spec import TASKS, TaskSpec, get_task, register

import_modules(__name__, __path__, "spec")

__all__ = ["TASKS", "TaskSpec", "get_task", "register"]
