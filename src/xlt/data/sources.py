"""Where a task's examples come from: files under a local `data_dir`, else the Hugging Face Hub.

A task lists its local `Layout`s in order of preference. Path templates are relative to
`data_dir`, the folder that holds one subfolder per task (what XTREME's `download_data.sh`
writes to `download/`, or the release files as in `../shared/data`), and may use `{lang}` plus
the fields the task's `names(lang)` adds (e.g. `{lang3}` for Tatoeba). The first layout whose
file exists wins; none -> one XltError naming every path looked at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xlt.data import hub
from xlt.data.formats import read_release
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
            return self._checked(self.hub.load(split, fields), f"{self.hub.dataset} ({split}, {lang})")
        return self.load_local(split, fields, Path(data_dir))

    def _checked(self, examples: list[dict], where: str) -> list[dict]:
        """The examples, once every label is one of the task's (classification labels, tags)."""
        from xlt.tasks import get_task

        labels = get_task(self.task).labels
        allowed = set(labels)
        for example in examples if labels else ():
            found = [example["label"]] if isinstance(example.get("label"), str) else example.get("tags") or []
            bad = next((label for label in found if label not in allowed), None)
            if bad is not None:
                raise XltError(
                    f"{where}: example {example.get('id')!r} has the label {bad!r}, which is not one of"
                    f" {self.task}'s labels ({', '.join(labels)}); check that the file is {self.task}'s"
                )
        return examples

    def locate(self, split: str, lang: str, data_dir: Path | str | None) -> tuple[str, bool | None]:
        """Where the split would be read from, and whether it is there (None: on the Hub, not checked)."""
        fields = {"lang": lang, **self.names(lang)}
        if data_dir is None:
            if self.hub is None or split not in self.hub.splits:
                return f"no Hub source for {self.task} {split}", False
            config = self.hub.config.format(**fields) if self.hub.config else None
            return f"Hub {self.hub.dataset}" + (f" ({config})" if config else ""), None
        paths = [
            Path(data_dir) / layout.files[split].format(**fields) for layout in self.layouts if split in layout.files
        ]
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
                return self._checked(read_release(layout.read, path, split, fields["lang"], self.task), str(path))
        tried = " or ".join(str(path) for path, _ in candidates)
        held = sorted({lang for _, layout in candidates for lang in _languages_held(data_dir, layout.files[split])})
        field = "train_languages" if split == "train" else "eval_languages"
        holds = f"it holds {split} files for {', '.join(held)}" if held else f"it holds no {self.task} {split} file"
        raise XltError(
            f"no {self.task} {split} data for language {fields['lang']!r} in data.dir {data_dir}: {tried} does not"
            f" exist; {holds}. Leave the language out with the target's {field}, or point data.dir at the folder"
            " holding the task's files (XTREME download layout or release files)"
        )


def _languages_held(data_dir: Path, template: str) -> list[str]:
    """The languages whose files a layout's template ("xnli/test-{lang}.tsv") finds under data_dir."""
    pieces = _FIELD.split(template)  # literal, field name, literal, ...
    if "lang" not in pieces[1::2]:
        return []
    pattern, named = "", False
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            pattern += re.escape(piece)
        elif piece == "lang":
            pattern += "(?P=lang)" if named else "(?P<lang>[^/]+)"
            named = True
        else:
            pattern += "[^/]+"
    matches = (
        re.fullmatch(pattern, p.relative_to(data_dir).as_posix()) for p in data_dir.glob(_FIELD.sub("*", template))
    )
    return [match["lang"] for match in matches if match]


_FIELD = re.compile(r"\{([a-z_]+)\}")  # a field of a layout's file template
