"""Unlabelled text for pretraining: one sentence a line, one language a file, each file named its language.

A file's language is given as `LANG=PATH`, or else taken from its name: the stem (`de.txt` -> `de`),
or, when two files share a stem, each one's last suffix, so that release pairs such as Tatoeba's
`tatoeba.deu-eng.deu` and `tatoeba.deu-eng.eng` are `deu` and `eng` as they come.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from xlt.errors import XltError

TextFiles = Sequence[str | Path] | Mapping[str, str | Path]
_LANGUAGE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_ADVICE = "pass UTF-8 text files, one sentence a line"


def language_files(files: TextFiles) -> dict[str, Path]:
    """language -> file, in the order given; one XltError line when two files would share a language."""
    if isinstance(files, Mapping):
        return {lang: Path(path) for lang, path in files.items()}
    named: dict[str, Path] = {}
    plain = []
    for item in map(str, files):
        lang, sep, given = item.partition("=")
        if sep and _LANGUAGE.fullmatch(lang) and not Path(item).exists():
            _add(named, lang, Path(given))
        else:
            plain.append(Path(item))
    stems = Counter(path.stem for path in plain)
    for path in plain:
        _add(named, path.stem if stems[path.stem] == 1 else path.suffix.removeprefix("."), path)
    return named


def _add(named: dict[str, Path], lang: str, path: Path) -> None:
    if not lang or lang in named:
        taken = f" as {named[lang]} does" if lang in named else ""
        raise XltError(
            f"{path}: cannot tell its language from its name (it would be {lang!r}{taken}); name each"
            f" file's language explicitly, e.g. xlt pretrain deu={path} eng=OTHER_FILE"
        )
    named[lang] = path


def read_text_files(files: TextFiles) -> dict[str, list[str]]:
    """language -> non-blank lines; one XltError line for a missing, binary or empty file."""
    named = language_files(files)
    if not named:
        raise XltError(f"pretraining needs at least one text file ({_ADVICE}, one language a file)")
    texts = {}
    for lang, path in named.items():
        if not path.is_file():
            raise XltError(f"{path}: no such text file; {_ADVICE}")
        try:
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        except UnicodeDecodeError as err:
            raise XltError(f"{path} is not UTF-8 text (invalid byte at position {err.start}); {_ADVICE}") from None
        lines = [line for line in lines if line]
        if not lines or any("\x00" in line for line in lines[:100]):
            raise XltError(f"{path} is empty or not text; {_ADVICE}")
        texts[lang] = lines
    return texts
