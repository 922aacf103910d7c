"""One generic registry (tasks, kinds, methods) with "did you mean" hints, as in lm-evaluation-harness."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from xlt.errors import XltError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str):
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (a plugin or a test that registered one for a while)."""
        del self._entries[name]

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            hint, known = did_you_mean(name, self._entries), ", ".join(sorted(self._entries))
            raise XltError(f"unknown {self.what} {name!r}{hint} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._entries.items())


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "; did you mean 'x'?" for the closest known name, or "" when none is close."""
    hint = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""
