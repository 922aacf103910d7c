"""A study whose targets are the retrieval tasks, trained as XTREME-R: Tatoeba embeds with a SQuAD-trained
encoder, LAReQA's dual encoder trains on SQuAD answer-sentence retrieval, Mewsli-X's on its English pairs;
BUCC mines with the untrained encoder (XTREME, `steps: 0`). Data: small files in each task's release layout;
predictions score with `xlt score`."""

from __future__ import annotations

import csv
import json

import pytest

from test_loaders_local import mewslix_entity, squad_file, write, xquad_r_file
from xlt.config import validate_study
from xlt.kinds import get_kind
from xlt.pipeline.run.runner import run_study
from xlt.scoring import score_folders
from xlt.submission import write_predictions
from xlt.tasks import get_task

pytestmark = pytest.mark.slow  # a whole study of the four retrieval targets

WORDS = "the cat dog sat ran on a mat red blue big small house tree car".split()


def sentence(i: int, lang: str) -> str:
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(4 + i % 3)]
    return " ".join(words if lang == "en" else reversed(words)) + f" {i} ."


def write_data(root):
    paragraph = "The cat sat. The dog ran. A mat is red. The house is big."
    answers = ("cat", "dog", "mat", "house")
    squad_file(
        root,
        "squad/train-v1.1.json",
        [(f"q{i}", f"what is {answer} ?", answer, paragraph.index(answer)) for i, answer in enumerate(answers)],
        paragraph,
    )
    for lang, iso3 in (("de", "deu"), ("fr", "fra")):
        write(root, f"tatoeba/tatoeba.{iso3}-eng.{iso3}", "".join(sentence(i, lang) + "\n" for i in range(6)))
        write(root, f"tatoeba/tatoeba.{iso3}-eng.eng", "".join(sentence(i, "en") + "\n" for i in range(6)))
    for split, offset in (("dev", 0), ("test", 10)):
        ids = range(offset, offset + 5)
        write(root, f"bucc2018/de-en.{split}.de", "".join(f"de-{i}\t{sentence(i, 'de')}\n" for i in ids))
        write(root, f"bucc2018/de-en.{split}.en", "".join(f"en-{i}\t{sentence(i, 'en')}\n" for i in ids))
        write(root, f"bucc2018/de-en.{split}.gold", "".join(f"de-{i}\ten-{i}\n" for i in list(ids)[:3]))
    for lang in ("de", "en"):
        sentences = [sentence(i, lang) for i in range(3)]
        starts = [sum(len(s) + 1 for s in sentences[:k]) for k in range(3)]
        xquad_r_file(root, lang, sentences, [(f"x{k}", f"what {k} ?", starts[k]) for k in range(3)])
    entities = [mewslix_entity(f"Q{i}", sentence(i, "en")) for i in range(8)]
    write(root, "mewslix/candidate_set_entities.jsonl", "".join(json.dumps(e) + "\n" for e in entities))
    pairs = [
        {"contextual_mention": {"context": context(i, "en"), "mention": mention(i, "en")}, "entity": entities[i]}
        for i in range(8)
    ]
    write(root, "mewslix/wikipedia_pairs-train.jsonl", "".join(json.dumps(p) + "\n" for p in pairs))
    mentions = [{"context": context(i, lang), "mention": mention(i, lang)} for lang in ("de", "en") for i in range(4)]
    write(root, "mewslix/wikinews_mentions-test.jsonl", "".join(json.dumps(m) + "\n" for m in mentions))


def context(i: int, lang: str) -> dict:
    text = sentence(i, lang)
    return {
        "document_title": "d",
        "document_url": "u",
        "document_id": f"d{i}",
        "language": lang,
        "text": text,
        "sentence_spans": [{"start": 0, "end": len(text)}],
    }


def mention(i: int, lang: str) -> dict:
    word = sentence(i, lang).split()[0]
    return {
        "example_id": f"{lang}-m{i}",
        "entity_id": f"Q{i}",
        "mention_span": {"start": 0, "end": len(word), "text": word},
    }


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("retrieval-study")
    write_data(root / "data")
    squad = {"steps": 2, "batch_size": 2, "max_length": 64}
    study = validate_study(
        {
            "name": "retrieval-tiny",
            "benchmark": "xtreme-r",
            "model": {"name_or_path": str(tiny_model_dir)},
            "data": {"dir": str(root / "data")},
            "methods": [{"name": "finetune", "options": {"lr": 1e-4}}],
            "targets": [
                {"task": "tatoeba", "eval_languages": ["de", "fr"], "training": squad, "head": {"layer": 1}},
                {"task": "lareqa", "eval_languages": ["de", "en"], "training": squad},
                {"task": "bucc2018", "eval_languages": ["de"], "training": {"steps": 0}},
                {"task": "mewslix", "eval_languages": ["de", "en"], "training": {"steps": 3, "batch_size": 4}},
            ],
            "references": ["majority"],
            "output_dir": str(root / "study"),
        },
        "retrieval-tiny",
    )
    return run_study(study, progress=False).out_dir


def rows(study_dir) -> list[dict]:
    with open(study_dir / "results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_retrieval_target_is_scored_in_every_language(study_dir):
    scored = {(r["method"], r["target_task"], r["eval_language"], r["metric"]) for r in rows(study_dir)}
    expected = {("tatoeba", lang, "accuracy") for lang in ("de", "fr")}
    expected |= {("lareqa", lang, "map@20") for lang in ("de", "en")}
    expected |= {("bucc2018", "de", metric) for metric in ("f1", "precision", "recall")}
    expected |= {("mewslix", lang, "map@20") for lang in ("de", "en")}
    assert scored == {(method, *key) for method in ("finetune", "majority") for key in expected}
    values = {
        (r["method"], r["target_task"], r["eval_language"], r["metric"]): float(r["value"]) for r in rows(study_dir)
    }
    assert values[("majority", "bucc2018", "de", "f1")] == 0.0  # nothing predicted
    assert values[("majority", "tatoeba", "de", "accuracy")] == pytest.approx(100 / 6)


def test_each_target_trains_on_its_training_task_and_bucc_is_untrained(study_dir):
    stages = json.loads((study_dir / "provenance.json").read_text())["stages"].values()
    # bucc's SQuAD stage is the encoder as loaded (0 steps, no data read)
    assert sorted((s["task"], s["steps"], s["examples"] > 0) for s in stages) == [
        ("mewslix", 3, True),
        ("squad", 0, False),
        ("squad", 2, True),
        ("squad-retrieval", 2, True),
    ]
    bucc = [r for r in rows(study_dir) if r["target_task"] == "bucc2018" and r["method"] == "finetune"]
    squad = [r for r in rows(study_dir) if r["target_task"] == "tatoeba" and r["method"] == "finetune"]
    assert bucc[0]["stage_hash"] != squad[0]["stage_hash"]


def test_predictions_are_in_the_xtreme_layout_and_xlt_score_reproduces_the_results(study_dir, tmp_path):
    predictions = study_dir / "predictions" / "finetune.none.seed0"
    names = {p.relative_to(predictions).as_posix() for p in predictions.rglob("test-*")}
    assert names == {
        "tatoeba/test-de.tsv",
        "tatoeba/test-fr.tsv",
        "lareqa/test-de.tsv",
        "lareqa/test-en.tsv",
        "bucc2018/test-de.tsv",
        "mewslix/test-de.json",
        "mewslix/test-en.json",
    }
    data = study_dir.parent / "data"
    for task, langs in (
        ("tatoeba", ("de", "fr")),
        ("lareqa", ("de", "en")),
        ("bucc2018", ("de",)),
        ("mewslix", ("de", "en")),
    ):
        spec, kind = get_task(task), get_kind(get_task(task).kind)
        for lang in langs:
            scored = kind.scored(spec.load("test", lang, data))
            write_predictions(
                tmp_path / "labels" / task / f"test-{lang}.{spec.submission_ext}",
                spec.kind,
                [kind.gold(e, spec) for e in scored],
                [e["id"] for e in scored],
            )
    scores = score_folders(predictions, tmp_path / "labels")
    for row in rows(study_dir):
        if row["method"] == "finetune":
            assert scores[row["target_task"]][row["eval_language"]][row["metric"]] == pytest.approx(
                float(row["value"]), abs=1e-9
            )


def test_tatoeba_lines_follow_sorted_english_and_name_release_lines(study_dir):
    lines = (study_dir / "predictions/finetune.none.seed0/tatoeba/test-de.tsv").read_text().split()
    assert len(lines) == 6 and all(0 <= int(line) < 6 for line in lines)
    from xlt.metrics.retrieval import sorted_english_order

    # line i answers the i-th English sentence in sorted order: read against that order, the lines score the
    # study's accuracy (the sorted order is not the file's, so lines in file order would score otherwise)
    gold = sorted_english_order([sentence(i, "en") for i in range(6)])
    [accuracy] = [
        float(r["value"])
        for r in rows(study_dir)
        if (r["method"], r["target_task"], r["eval_language"], r["metric"]) == ("finetune", "tatoeba", "de", "accuracy")
    ]
    assert gold != sorted(gold) and accuracy > 50
    assert 100 * sum(int(line) == index for line, index in zip(lines, gold)) / len(gold) == pytest.approx(accuracy)
