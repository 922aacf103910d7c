"""Pretraining text files are named by language: the stem, the last suffix when stems collide, or LANG=PATH."""

from __future__ import annotations

import json
import random

import pytest

from in_process import run_xlt
from xlt.data.text_files import language_files
from xlt.errors import XltError

TINY = [
    "--max-steps",
    "2",
    "--vocab-size",
    "200",
    "--hidden-size",
    "16",
    "--layers",
    "1",
    "--set",
    "heads=2",
    "--set",
    "ffn=32",
    "--set",
    "batch_size=4",
    "--set",
    "warmup_steps=1",
]


def test_names_come_from_stems_suffixes_or_are_given(tmp_path):
    assert language_files([tmp_path / "de.txt", tmp_path / "fr.txt"]) == {
        "de": tmp_path / "de.txt",
        "fr": tmp_path / "fr.txt",
    }
    pair = [tmp_path / "tatoeba.deu-eng.deu", tmp_path / "tatoeba.deu-eng.eng"]
    assert language_files(pair) == {"deu": pair[0], "eng": pair[1]}
    assert language_files([f"sw={tmp_path / 'a.txt'}", tmp_path / "de.txt"]) == {
        "sw": tmp_path / "a.txt",
        "de": tmp_path / "de.txt",
    }
    (tmp_path / "x=y.txt").write_text("a file whose name holds '='\n")
    assert language_files([str(tmp_path / "x=y.txt")]) == {"x=y": tmp_path / "x=y.txt"}


@pytest.mark.parametrize("files", [["a/de.txt", "b/de.txt"], ["en=a.txt", "en=b.txt"], ["a/text", "b/text"]])
def test_a_language_that_cannot_be_told_apart_is_one_line(files):
    with pytest.raises(XltError, match=r"cannot tell its language from its name .*; name each file's language"):
        language_files(files)


def _pretrained_languages(out) -> dict:
    return json.loads((out / "pretrain_options.json").read_text())["files"]


def test_xlt_pretrain_takes_the_tatoeba_release_files_as_they_come(shared_dir, tmp_path, capfd):
    pair = [shared_dir / "data/tatoeba/tatoeba.deu-eng.deu", shared_dir / "data/tatoeba/tatoeba.deu-eng.eng"]
    code, stderr = run_xlt(capfd, "pretrain", *map(str, pair), "--out", str(tmp_path / "enc"), *TINY)
    assert code == 0, stderr
    assert _pretrained_languages(tmp_path / "enc") == {"deu": str(pair[0]), "eng": str(pair[1])}


def test_xlt_pretrain_records_which_file_gave_which_language(tmp_path, capfd):
    rng = random.Random(0)
    words = ["anna", "omar", "bonn", "cat", "dog", "sees", "runs", "the", "a", "."]
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text("".join(" ".join(rng.choices(words, k=6)) + "\n" for _ in range(200)))
    named = [f"sw={tmp_path / 'one.txt'}", f"yo={tmp_path / 'two.txt'}"]
    code, stderr = run_xlt(capfd, "pretrain", *named, "--out", str(tmp_path / "enc"), *TINY)
    assert code == 0, stderr
    assert _pretrained_languages(tmp_path / "enc") == {"sw": str(tmp_path / "one.txt"), "yo": str(tmp_path / "two.txt")}
