"""Submission files in XTREME's layout (`{task}/test-{lang}.{ext}`): writers and readers.

Formats (a task's is its kind's unless it names another; `resolve_format` also takes a kind's name,
whose "lines" default yields to a .json or .jsonl file's extension):
- "lines": one value a line (labels, choice or candidate indices, BUCC pairs as src<TAB>trg);
- "tags":  one tag a line, a blank line after each sentence (tagging);
- "json":  {id: value}, the value an answer string (qa) or a ranked id list (Mewsli-X);
  gold QA files are SQuAD v1.1 JSON and read as {question id: [answer texts]};
- "jsonl": one JSON object a line whose "label" is the value (XCOPA: its release rows are the gold).
Readers follow XTREME's evaluate.py: lines are stripped; in "tags" every blank line closes a
sentence. Writes are atomic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlt.errors import XltError
from xlt.runtime.io import atomic_write_json, atomic_write_text

EXTENSIONS = {"lines": "tsv", "tags": "tsv", "json": "json", "jsonl": "jsonl"}  # format -> file extension
FORMATS = tuple(EXTENSIONS)
_EXTENSION_FORMATS = {".json": "json", ".jsonl": "jsonl"}


def resolve_format(kind_or_format: str, path: Path | str) -> str:
    if kind_or_format in FORMATS:
        return kind_or_format
    from xlt.kinds import KINDS

    if kind_or_format not in KINDS:
        raise XltError(
            f"unknown submission format {kind_or_format!r}: use one of {FORMATS} or a task kind ({', '.join(KINDS)})"
        )
    default = KINDS.get(kind_or_format).submission
    return _EXTENSION_FORMATS.get(Path(path).suffix, default) if default == "lines" else default


# ---- writing ---------------------------------------------------------------------------------------


def _line(value: Any) -> str:
    text = "\t".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
    if "\n" in text or "\r" in text:
        raise XltError(f"prediction {text!r} contains a line break; one-line-per-example files cannot hold it")
    return text


def _checked_ids(ids: Sequence[str] | None, predictions: Sequence, path: Path, required: bool) -> list[str] | None:
    if ids is None and not required:
        return None
    if ids is None or len(ids) != len(predictions):
        got = "none" if ids is None else len(ids)
        raise XltError(f"{path}: {len(predictions)} predictions need as many example ids (got {got})")
    if len(set(ids)) != len(ids):
        raise XltError(f"{path}: example ids repeat; each prediction needs a distinct id")
    return [str(id_) for id_ in ids]


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def write_predictions(path: Path, kind_or_format: str, predictions: Sequence, ids: Sequence[str] | None = None) -> None:
    """Write one task-language submission file atomically ("json" needs `ids`; "jsonl" records them)."""
    path = Path(path)
    fmt = resolve_format(kind_or_format, path)
    if fmt == "json":
        ids = _checked_ids(ids, predictions, path, required=True)
        assert ids is not None  # required: _checked_ids raises rather than return None
        atomic_write_json(path, {id_: _json_value(p) for id_, p in zip(ids, predictions)})
    elif fmt == "jsonl":
        ids = _checked_ids(ids, predictions, path, required=False)
        rows = [{"label": _json_value(p)} for p in predictions]
        for row, id_ in zip(rows, ids or []):
            row["id"] = id_
        atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    elif fmt == "tags":
        atomic_write_text(path, "".join("".join(f"{_line(tag)}\n" for tag in s) + "\n" for s in predictions))
    else:
        atomic_write_text(path, "".join(f"{_line(value)}\n" for value in predictions))


# ---- reading ---------------------------------------------------------------------------------------


def _text(path: Path) -> str:
    if not path.is_file():
        raise XltError(f"{path} does not exist: expected one file a task and language, {{task}}/test-{{lang}}.{{ext}}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise XltError(f"{path} is not UTF-8 ({error.reason} at byte {error.start}); re-save it as UTF-8") from None


def _lines(path: Path) -> list[str]:
    """Stripped lines, split on line ends only, as iterating over the file in evaluate.py does."""
    lines = _text(path).split("\n")
    return [line.strip() for line in (lines[:-1] if lines[-1] == "" else lines)]


def _sentences(lines: list[str]) -> list[list[str]]:
    sentences, current = [], []
    for line in lines:
        if line:
            current.append(line)
        else:
            sentences.append(current)
            current = []
    return sentences + [current] if current else sentences


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise XltError(f"{where} is not valid JSON ({error.msg}, column {error.colno}); fix the file") from None


def _json_object(path: Path) -> dict:
    payload = _json(_text(path), str(path))
    if not isinstance(payload, dict):
        raise XltError(f"{path} holds a JSON {type(payload).__name__}; expected an object {{id: value}}")
    return payload


def _jsonl_labels(path: Path) -> list:
    values = []
    for number, line in enumerate(_lines(path), start=1):
        if not line:
            continue
        row = _json(line, f"{path} line {number}")
        if not isinstance(row, dict) or "label" not in row:
            raise XltError(f'{path} line {number} has no "label" field; each line must be an object with the label')
        values.append(row["label"])
    return values


def read_predictions(path: Path, kind_or_format: str) -> Any:
    """A list of values ("lines", "jsonl"), of tag lists ("tags"), or a dict {id: value} ("json")."""
    path = Path(path)
    fmt = resolve_format(kind_or_format, path)
    if fmt == "json":
        return _json_object(path)
    if fmt == "jsonl":
        return _jsonl_labels(path)
    lines = _lines(path)
    return _sentences(lines) if fmt == "tags" else lines


def _squad_answers(data: list, path: Path) -> dict[str, list[str]]:
    try:
        return {
            qa["id"]: [answer["text"] for answer in qa["answers"]]
            for article in data
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
        }
    except (KeyError, TypeError) as error:
        raise XltError(f"{path} is not SQuAD v1.1 JSON (no {error} field): need data/paragraphs/qas/answers") from None


def read_labels(path: Path, kind_or_format: str) -> Any:
    """As `read_predictions`; SQuAD v1.1 JSON becomes {question id: [answer texts]}."""
    labels = read_predictions(path, kind_or_format)
    if isinstance(labels, dict) and isinstance(labels.get("data"), list):
        return _squad_answers(labels["data"], Path(path))
    return labels
