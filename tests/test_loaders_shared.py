"""The loaders read every real release file in ../shared/data (skipped when it is absent)."""

from __future__ import annotations

import json

import pytest

from xlt.tasks import get_task


@pytest.fixture(scope="module")
def data_dir(shared_dir):
    return shared_dir / "data"


@pytest.fixture(scope="module")
def xquad(data_dir):
    spec = get_task("xquad")
    return {lang: spec.load("test", lang, data_dir) for lang in spec.languages["xtreme-r"]}


@pytest.fixture(scope="module")
def udpos(data_dir):
    spec = get_task("udpos")
    files = {path.stem: path for path in (data_dir / "udpos").glob("*.tsv")}
    return {name: spec.load(*name.split("-"), data_dir) for name in files}, files


def test_xquad_every_language_has_the_parallel_1190_questions(xquad):
    assert sorted(xquad) == sorted(get_task("xquad").languages["xtreme-r"])
    english_ids = [example["id"] for example in xquad["en"]]
    assert len(english_ids) == 1190 == len(set(english_ids))
    for lang, examples in xquad.items():
        assert [example["id"] for example in examples] == english_ids, lang
        for example in examples:
            answer = example["answers"][0]
            start = answer["answer_start"]
            assert example["context"][start : start + len(answer["text"])] == answer["text"]


def test_udpos_sentence_counts_and_tags(udpos):
    loaded, files = udpos
    # XTREME writes a blank line after every sentence but the last, so sentences = blank-line breaks + 1
    for name, path in files.items():
        assert len(loaded[name]) == path.read_text(encoding="utf-8").count("\n\n") + 1, name
    assert len(loaded["train-en"]) == 21787 and len(loaded["dev-en"]) == 3974 and len(loaded["test-en"]) == 5440
    tags = set(get_task("udpos").labels)
    for name, examples in loaded.items():
        assert all(len(e["tokens"]) == len(e["tags"]) > 0 and set(e["tags"]) <= tags for e in examples), name


def test_udpos_test_files_cover_the_xtreme_languages_but_german(udpos):
    loaded, _ = udpos
    tested = {name.split("-")[1] for name in loaded if name.startswith("test-")}
    assert tested == set(get_task("udpos").languages["xtreme"]) - {"de"}


def test_xcopa_validation_and_test_sizes(data_dir):
    spec = get_task("xcopa")
    for lang in spec.languages["xtreme-r"]:
        dev, test = spec.load("dev", lang, data_dir), spec.load("test", lang, data_dir)
        assert (len(dev), len(test)) == (100, 500), lang
        assert all(e["label"] in (0, 1) and e["question"] in ("cause", "effect") for e in dev + test)
    first = json.loads((data_dir / "xcopa/et/val.et.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert spec.load("dev", "et", data_dir)[0]["choices"] == [first["choice1"], first["choice2"]]


def test_tatoeba_every_xtreme_r_language_pairs_all_lines(data_dir):
    spec = get_task("tatoeba")
    from xlt.tasks.tatoeba import ISO3 as iso3

    sizes = {}
    for lang in spec.languages["xtreme-r"]:
        examples = spec.load("test", lang, data_dir)
        english = (data_dir / f"tatoeba/tatoeba.{iso3[lang]}-eng.eng").read_text(encoding="utf-8").splitlines()
        other = (data_dir / f"tatoeba/tatoeba.{iso3[lang]}-eng.{iso3[lang]}").read_text(encoding="utf-8").splitlines()
        assert [e["query"] for e in examples] == sorted(line.strip() for line in english), lang  # XTREME's order
        lines = [int(e["id"].rsplit("-", 1)[1]) for e in examples]
        assert sorted(lines) == list(range(len(english)))
        assert all(e["candidate"] == other[line].strip() for e, line in zip(examples, lines)), lang
        sizes[lang] = len(examples)
    # LASER has fewer than 1,000 pairs for a few low-resource languages (e.g. jv 205)
    assert sum(size == 1000 for size in sizes.values()) == 33 and min(sizes.values()) == sizes["jv"] == 205
