"""One generic registry (tasks, kinds, methods) with "did you mean" hints, as in lm-evaluation-harness.

Entries come from xlt's own modules (each registers itself when its package imports it, `import_modules`) and
from plugins: other installed distributions that name a module under the registry's entry-point group
(`xlt.tasks`, `xlt.methods`, `xlt.kinds`, `xlt.encoders`), found as pytest and lm-evaluation-harness find theirs.
A plugin's module is imported at the registry's first lookup, when xlt's own packages are whole (it imports them).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from importlib import metadata
from typing import Generic, TypeVar

from xlt.errors import XltError

T = TypeVar("T")


class Registry(Generic[T]):
    """`group`: the xlt package whose modules register the entries, and the plugins' entry-point group."""

    def __init__(self, what: str, group: str):
        self.what, self.group = what, group
        self._entries: dict[str, T] = {}
        self._plugins_loaded = False

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (a plugin or a test that registered one for a while)."""
        del self._entries[name]

    def get(self, name: str) -> T:
        entries = self._loaded()
        try:
            return entries[name]
        except KeyError:
            hint, known = did_you_mean(name, entries), ", ".join(sorted(entries))
            raise XltError(f"unknown {self.what} {name!r}{hint} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._loaded()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._loaded()))

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._loaded().items())

    def _loaded(self) -> dict[str, T]:
        if not self._plugins_loaded:
            self._plugins_loaded = True  # first: a plugin may look entries up while it registers its own
            importlib.import_module(self.group)  # the package imports its modules: each registers itself
            load_plugins(self.group)
        return self._entries


def import_modules(package: str, path: Iterable[str], skip: str) -> None:
    """Import every module of an xlt package but `skip`: each registers itself."""
    for module in pkgutil.iter_modules(path):
        if module.name != skip:
            importlib.import_module(f"{package}.{module.name}")


def load_plugins(group: str) -> None:
    """Import the module each installed distribution names under the entry-point group: it registers itself."""
    for entry in metadata.entry_points(group=group):
        try:
            entry.load()
        except Exception as err:  # a plugin's own bug: named in one line, not a traceback from every command
            dist = entry.dist.name if entry.dist else "an installed distribution"
            raise XltError(
                f"plugin {entry.name!r} ({entry.value}, {group}, from {dist}) failed to load: "
                f"{type(err).__name__}: {err}; fix or uninstall it"
            ) from None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the closest known name, or "" when none is close."""
    hint = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""
