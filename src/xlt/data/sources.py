"""Where a task's examples come from: files under a local `data_dir`, else the Hugging Face Hub.

A task lists its local `Layout`s in order of preference. Path templates are relative to
`data_dir`, the folder that holds one subfolder per task (what XTREME's `download_data.sh`
writes to `download/`, or the release files as in `../shared/data`), and may use `{lang}` plus
the fields the task's `names(lang)` adds (e.g. `{lang3}` for Tatoeba). The first layout whose
file exists wins; none -> one XltError naming every path looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from xlt.data import hub
from xlt.errors import XltError

Reader = Callable[[Path, str, str], list[dict]]  # (path, split, lang) -> examples
Convert = Callable[[object, str, str], list[dict]]  # (datasets.Dataset, split, lang) -> examples


@dataclass(frozen=True)
class Layout:
    """One arrangement of a task's files: split -> path template, and the reader of those files."""

    files: Mapping[str, str]
    read: Reader


@dataclass(frozen=True)
class HubSource:
    """A Hub dataset: `config` is a template over the same fields; `splits` maps xlt splits to Hub splits."""

    dataset: str
    config: str | None
    splits: Mapping[str, str]
    convert: Convert

    def load(self, split: str, fields: Mapping[str, str]) -> list[dict]:
        if split not in self.splits:
            raise XltError(f"{self.dataset} has no {split!r} split on the Hub (it has: {', '.join(self.splits)})")
        config = self.config.format(**fields) if self.config else None
        return self.convert(hub.load_split(self.dataset, config, self.splits[split]), split, fields["lang"])


@dataclass(frozen=True)
class TaskSource:
    """A task's `Loader` (see `xlt.tasks.spec`): local layouts first when a data_dir is given."""

    task: str
    layouts: Sequence[Layout]
    hub: HubSource | None = None
    names: Callable[[str], Mapping[str, str]] = field(default=lambda lang: {})

    def __call__(self, split: str, lang: str, data_dir: Path | str | None) -> list[dict]:
        fields = {"lang": lang, **self.names(lang)}
        if data_dir is None:
            if self.hub is None:
                raise XltError(f"task {self.task} has no Hugging Face Hub source; give a data_dir with its files")
            return self.hub.load(split, fields)
        return self.load_local(split, fields, Path(data_dir))

    def locate(self, split: str, lang: str, data_dir: Path | str | None) -> tuple[str, bool | None]:
        """Where the split would be read from, and whether it is there (None: on the Hub, not checked)."""
        fields = {"lang": lang, **self.names(lang)}
        if data_dir is None:
            if self.hub is None or split not in self.hub.splits:
                return f"no Hub source for {self.task} {split}", False
            config = self.hub.config.format(**fields) if self.hub.config else None
            return f"Hub {self.hub.dataset}" + (f" ({config})" if config else ""), None
        paths = [Path(data_dir) / layout.files[split].format(**fields) for layout in self.layouts
                 if split in layout.files]
        found = next((path for path in paths if path.is_file()), None)
        if found is not None:
            return str(found), True
        return (" or ".join(map(str, paths)) or f"no local layout for {self.task} {split}"), False

    def load_local(self, split: str, fields: Mapping[str, str], data_dir: Path) -> list[dict]:
        layouts = [layout for layout in self.layouts if split in layout.files]
        candidates = [(data_dir / layout.files[split].format(**fields), layout) for layout in layouts]
        if not candidates:
            known = sorted({s for layout in self.layouts for s in layout.files})
            raise XltError(f"task {self.task} has no local {split!r} split (it has: {', '.join(known)})")
        for path, layout in candidates:
            if path.is_file():
                return layout.read(path, split, fields["lang"])
        tried = " or ".join(str(path) for path, _ in candidates)
        raise XltError(
            f"no {self.task} {split} data for language {fields['lang']!r}: {tried} does not exist;"
            f" point data_dir at the folder holding the task's files (XTREME download layout or release files)"
        )
