"""Every task's local loader, on small files this test writes in the official (or XTREME download) format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlt.errors import XltError
from xlt.tasks import get_task


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def squad_file(root: Path, relative: str, qas: list[tuple[str, str, str, int]], context: str) -> None:
    """qas: (id, question, answer text, answer start) over one paragraph."""
    questions = [{"id": i, "question": q, "answers": [{"text": a, "answer_start": s}]} for i, q, a, s in qas]
    data = {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": questions}]}]}
    write(root, relative, json.dumps(data, ensure_ascii=False))


# ---- sentence pairs ----------------------------------------------------------------------------


def test_xnli_reads_xtreme_layout_with_csv_quoting(tmp_path):
    write(tmp_path, "xnli/dev-de.tsv", 'Er sagte "ja".\tEr stimmte zu.\tentailment\nA\tB\tcontradiction\n')
    examples = get_task("xnli").load("dev", "de", tmp_path)
    assert examples == [
        {"id": "dev-de-0", "text_a": 'Er sagte "ja".', "text_b": "Er stimmte zu.", "label": "entailment"},
        {"id": "dev-de-1", "text_a": "A", "text_b": "B", "label": "contradiction"},
    ]


def test_xnli_reads_the_release_file_filtered_by_language(tmp_path):
    header = "language\tgold_label\tsentence1_binary_parse\tsentence1\tsentence2\n"
    rows = (
        "de\tneutral\t-\tEin Satz.\tNoch einer.\nfr\tentailment\t-\tUne phrase.\tEncore.\nde\tcontradiction\t-\tX\tY\n"
    )
    write(tmp_path, "XNLI-1.0/xnli.test.tsv", header + rows)
    examples = get_task("xnli").load("test", "de", tmp_path)
    assert [(e["id"], e["text_a"], e["label"]) for e in examples] == [
        ("test-de-0", "Ein Satz.", "neutral"),
        ("test-de-1", "X", "contradiction"),
    ]


def test_stripped_test_labels_raise_one_line(tmp_path):
    write(tmp_path, "xnli/test-de.tsv", "Ein Satz.\tNoch einer.\n")
    with pytest.raises(XltError, match=r"test-de\.tsv line 1 has no gold labels") as error:
        get_task("xnli").load("test", "de", tmp_path)
    assert "\n" not in str(error.value)


def test_mnli_reads_glue_files_with_stray_quotes(tmp_path):
    header = "index\tpromptID\tpairID\tgenre\tsentence1\tsentence2\tlabel1\tgold_label\n"
    row = '0\t1\t2\tfiction\tHe said "no\tHe refused.\tcontradiction\tcontradiction\n'
    write(tmp_path, "MNLI/dev_matched.tsv", header + row)
    (example,) = get_task("mnli").load("dev", "en", tmp_path)
    assert example == {"id": "dev-en-0", "text_a": 'He said "no', "text_b": "He refused.", "label": "contradiction"}


def test_xnli_translate_train_maps_contradictory(tmp_path):
    text = "premise\thypo\tlabel\nP\tH\tcontradictory\nQ\tI\tneutral\n"
    write(tmp_path, "XNLI-MT-1.0/multinli/multinli.train.fr.tsv", text)
    examples = get_task("xnli-tt").load("train", "fr", tmp_path)
    assert [e["label"] for e in examples] == ["contradiction", "neutral"]


def test_pawsx_release_and_xtreme_layouts_agree(tmp_path):
    release = "id\tsentence1\tsentence2\tlabel\n1\tS1\tS2\t1\n2\tT1\tT2\t0\n"
    write(tmp_path / "release", "x-final/ja/dev_2k.tsv", release)
    write(tmp_path / "xtreme", "pawsx/dev-ja.tsv", "S1\tS2\t1\nT1\tT2\t0\n")
    spec = get_task("pawsx")
    assert spec.load("dev", "ja", tmp_path / "release") == spec.load("dev", "ja", tmp_path / "xtreme")
    assert [e["label"] for e in spec.load("dev", "ja", tmp_path / "xtreme")] == ["1", "0"]


def test_paws_and_pawsx_translate_train_read_their_files(tmp_path):
    write(tmp_path, "x-final/en/train.tsv", "id\tsentence1\tsentence2\tlabel\n1\tA\tB\t1\n")
    write(tmp_path, "x-final/de/translated_train.tsv", "id\tsentence1\tsentence2\tlabel\n1\tÄ\tB\t0\n")
    assert get_task("paws").load("train", "en", tmp_path)[0]["text_a"] == "A"
    assert get_task("pawsx-tt").load("train", "en", tmp_path)[0]["text_a"] == "A"
    expected = {"id": "train-de-0", "text_a": "Ä", "text_b": "B", "label": "0"}
    assert get_task("pawsx-tt").load("train", "de", tmp_path)[0] == expected


# ---- tagging -----------------------------------------------------------------------------------


@pytest.mark.parametrize("task,tags", [("udpos", ("PRON", "VERB", "PUNCT")), ("panx", ("B-PER", "O", "B-LOC"))])
def test_tagging_reads_sentences_split_by_blank_lines(tmp_path, task, tags):
    body = f"Sie\t{tags[0]}\nläuft\t{tags[1]}\n\n\n.\t{tags[2]}\n"  # a doubled blank line, as PAN-X files have
    write(tmp_path, f"{task}/test-de.tsv", body)
    examples = get_task(task).load("test", "de", tmp_path)
    assert examples == [
        {"id": "test-de-0", "tokens": ["Sie", "läuft"], "tags": list(tags[:2])},
        {"id": "test-de-1", "tokens": ["."], "tags": [tags[2]]},
    ]


def test_tagging_without_tags_raises(tmp_path):
    write(tmp_path, "panx/test-de.tsv", "Berlin\n\n")
    with pytest.raises(XltError, match="has no gold labels"):
        get_task("panx").load("test", "de", tmp_path)


# ---- QA ------------------------------------------------------------------------------------------


def test_xquad_keeps_release_ids_and_answers(tmp_path):
    squad_file(tmp_path, "xquad/xquad.de.json", [("q1", "Wer?", "Anna", 0), ("q2", "Wo?", "Bonn", 9)], "Anna lebt Bonn")
    examples = get_task("xquad").load("test", "de", tmp_path)
    assert [e["id"] for e in examples] == ["q1", "q2"]
    assert examples[1] == {
        "id": "q2",
        "context": "Anna lebt Bonn",
        "question": "Wo?",
        "answers": [{"text": "Bonn", "answer_start": 9}],
    }


def test_qa_placeholders_of_the_xtreme_download_raise(tmp_path):
    squad_file(tmp_path, "xquad/xquad.de.json", [("q1", "Wer?", "", 0)], "Anna")
    with pytest.raises(XltError, match="no gold labels"):
        get_task("xquad").load("test", "de", tmp_path)


def test_repeated_qids_become_positional_ids(tmp_path):
    squad_file(tmp_path, "tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.fi.train.json", [("0", "q", "a", 0)] * 2, "a")
    assert [e["id"] for e in get_task("tydiqa-ml").load("train", "fi", tmp_path)] == ["train-fi-0", "train-fi-1"]


def test_mlqa_squad_and_tydiqa_find_their_layouts(tmp_path):
    squad_file(tmp_path, "mlqa/MLQA_V1/dev/dev-context-hi-question-hi.json", [("m1", "q", "a", 0)], "a b")
    squad_file(tmp_path, "squad/train-v1.1.json", [("s1", "q", "b", 2)], "a b")
    squad_file(tmp_path, "tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json", [("t1", "q", "a", 0)], "a")
    squad_file(tmp_path, "tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.sw.train.json", [("t2", "q", "a", 0)], "a")
    squad_file(tmp_path, "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-swahili.json", [("t3", "q", "a", 0)], "a")
    assert get_task("mlqa").load("dev", "hi", tmp_path)[0]["id"] == "m1"
    assert get_task("squad").load("train", "en", tmp_path)[0]["answers"] == [{"text": "b", "answer_start": 2}]
    assert get_task("tydiqa").load("train", "en", tmp_path)[0]["id"] == "t1"
    assert get_task("tydiqa-ml").load("train", "sw", tmp_path)[0]["id"] == "t2"
    assert get_task("tydiqa").load("test", "sw", tmp_path)[0]["id"] == "t3"  # release name of the GoldP dev file


# ---- multiple choice -------------------------------------------------------------------------------


def copa_line(idx: int, label: int) -> str:
    row = {"premise": f"P{idx}", "choice1": "A", "choice2": "B", "question": "cause", "label": label, "idx": idx}
    return json.dumps(row) + "\n"


def test_xcopa_release_layout_maps_dev_to_val(tmp_path):
    write(tmp_path, "xcopa/qu/val.qu.jsonl", copa_line(0, 1) + copa_line(1, 0))
    examples = get_task("xcopa").load("dev", "qu", tmp_path)
    assert examples[0] == {"id": "dev-qu-0", "premise": "P0", "question": "cause", "choices": ["A", "B"], "label": 1}
    assert [e["label"] for e in examples] == [1, 0]


def test_copa_reads_xtreme_layout_and_rejects_unlabelled_rows(tmp_path):
    write(tmp_path, "xcopa/train.en.jsonl", copa_line(7, 0))
    assert get_task("copa").load("train", "en", tmp_path)[0]["id"] == "train-en-7"
    unlabelled = {"premise": "P", "choice1": "A", "choice2": "B", "question": "effect"}
    write(tmp_path, "xcopa/val.en.jsonl", json.dumps(unlabelled))
    with pytest.raises(XltError, match="val.en.jsonl line 1 has no gold labels"):
        get_task("copa").load("dev", "en", tmp_path)


def test_siqa_joins_answers_with_the_labels_file(tmp_path):
    row = {"context": "C", "question": "Q?", "answerA": "a", "answerB": "b", "answerC": "c"}
    write(tmp_path, "siqa/socialiqa-train-dev/dev.jsonl", json.dumps(row) + "\n" + json.dumps(row) + "\n")
    write(tmp_path, "siqa/socialiqa-train-dev/dev-labels.lst", "3\n1\n")
    examples = get_task("siqa").load("dev", "en", tmp_path)
    assert examples[0] == {"id": "dev-en-0", "premise": "C", "question": "Q?", "choices": ["a", "b", "c"], "label": 2}
    assert examples[1]["label"] == 0


# ---- retrieval ---------------------------------------------------------------------------------------


def test_tatoeba_maps_iso_codes_and_sorts_english_queries_as_xtreme(tmp_path):
    write(tmp_path, "tatoeba/tatoeba.pes-eng.pes", "سلام\nخداحافظ\nسلام\n")
    write(tmp_path, "tatoeba/tatoeba.pes-eng.eng", "Hello\nBye\nHello\n")
    # English queries (XTREME searches from English) in Python string order, stable for duplicates; each
    # id keeps the release line of its candidate, which is its gold in XTREME's label file
    assert get_task("tatoeba").load("test", "fa", tmp_path) == [
        {"id": "test-fa-1", "query": "Bye", "candidate": "خداحافظ"},
        {"id": "test-fa-0", "query": "Hello", "candidate": "سلام"},
        {"id": "test-fa-2", "query": "Hello", "candidate": "سلام"},
    ]


def test_tatoeba_sides_must_be_parallel(tmp_path):
    write(tmp_path, "tatoeba/tatoeba.deu-eng.deu", "a\nb\n")
    write(tmp_path, "tatoeba/tatoeba.deu-eng.eng", "a\n")
    with pytest.raises(XltError, match="must be parallel"):
        get_task("tatoeba").load("test", "de", tmp_path)


def test_bucc_puts_gold_pairs_first_then_unpaired_sentences_and_test_carries_dev(tmp_path):
    write(tmp_path, "bucc2018/de-en.dev.de", "de-1\tHallo\nde-2\tNichts\n")
    write(tmp_path, "bucc2018/de-en.dev.en", "en-1\tNothing here\nen-2\tHello\n")
    write(tmp_path, "bucc2018/de-en.dev.gold", "de-1\ten-2\n")
    dev = [
        {"id": "de-1", "query": "Hallo", "candidate": "Hello", "candidate_id": "en-2"},
        {"id": "de-2", "query": "Nichts", "candidate": None, "candidate_id": None},
        {"id": "en-1", "query": None, "candidate": "Nothing here", "candidate_id": "en-1"},
    ]
    assert get_task("bucc2018").load("dev", "de", tmp_path) == dev
    write(tmp_path, "bucc2018/de-en.test.de", "de-9\tTschüss\n")  # XTREME's test: no gold file
    write(tmp_path, "bucc2018/de-en.test.en", "en-9\tBye\n")
    assert get_task("bucc2018").load("test", "de", tmp_path) == [
        {"id": "de-9", "query": "Tschüss", "candidate": None, "candidate_id": None},
        {"id": "en-9", "query": None, "candidate": "Bye", "candidate_id": "en-9"},
        *({**example, "calibration": True} for example in dev),  # the threshold comes from dev's gold
    ]


def xquad_r_file(tmp_path, lang: str, sentences: list[str], qas: list[tuple[str, str, int]]):
    context = " ".join(sentences)
    starts = [context.index(s) for s in sentences]
    paragraph = {
        "context": context,
        "sentence_breaks": [[a, a + len(s)] for a, s in zip(starts, sentences)],
        "qas": [{"id": id_, "question": q, "answers": [{"text": "x", "answer_start": at}]} for id_, q, at in qas],
    }
    write(tmp_path, f"lareqa/xquad-r/{lang}.json", json.dumps({"data": [{"title": "t", "paragraphs": [paragraph]}]}))


def test_lareqa_ranks_a_pool_of_every_language_and_answers_share_a_question_id(tmp_path):
    xquad_r_file(tmp_path, "de", ["Anna lebt in Bonn.", "Sie mag Tee."], [("x1", "Wo?", 13), ("x2", "Was?", 25)])
    xquad_r_file(tmp_path, "en", ["Anna lives in Bonn.", "She likes tea."], [("x1", "Where?", 14)])
    examples = get_task("lareqa").load("test", "de", tmp_path)
    assert examples[:2] == [
        {"id": "x1_de", "query": "Wo?", "relevant": ["de_1_0", "en_1_0"]},  # x1's answer in both languages
        {"id": "x2_de", "query": "Was?", "relevant": ["de_1_1"]},
    ]
    pool = examples[2:]
    assert [e["candidate_id"] for e in pool] == ["de_1_0", "de_1_1", "en_1_0", "en_1_1"]
    assert pool[2]["candidate"] == "Anna lives in Bonn." and pool[2]["candidate_context"].endswith("tea.")
    assert all(e.get("query") is None for e in pool)


def test_lareqa_reads_each_language_file_once_for_all_evaluated_languages(tmp_path):
    from xlt.data.formats import _xquad_r_language

    xquad_r_file(tmp_path, "de", ["Anna lebt in Bonn."], [("x1", "Wo?", 0)])
    xquad_r_file(tmp_path, "en", ["Anna lives in Bonn."], [("x1", "Where?", 0)])
    _xquad_r_language.cache_clear()
    first = get_task("lareqa").load("test", "de", tmp_path)
    second = get_task("lareqa").load("test", "en", tmp_path)
    assert _xquad_r_language.cache_info().misses == 2  # two files, each parsed once for both languages
    assert first[1:] == second[1:] and first[0]["relevant"] == second[0]["relevant"] == ["de_1_0", "en_1_0"]


def test_squad_retrieval_pairs_questions_with_their_answer_sentence_and_paragraph(tmp_path):
    context = 'Anna lives in Bonn. "She likes tea!" The river is 12 km long. it has a bridge.'
    qas = [
        ("q1", "Where?", "Bonn", context.index("Bonn")),
        ("q2", "What?", "tea", context.index("tea")),
        ("q3", "Long?", "12 km", context.index("12 km")),
        ("q4", "Who?", "Anna", 0),
        ("q5", "Crosses?", 'Bonn. "She', context.index("Bonn")),
    ]
    squad_file(tmp_path, "squad/train-v1.1.json", qas, context)
    pairs = get_task("squad-retrieval").load("train", "en", tmp_path)
    by_id = {pair["id"]: pair for pair in pairs}
    assert by_id["q1"] == {
        "id": "q1",
        "query": "Where?",
        "candidate": "Anna lives in Bonn.",
        "candidate_id": "train_0_0",
        "candidate_context": context,
    }
    assert by_id["q2"]["candidate"] == '"She likes tea!"'
    # no break before a lowercase word: the last sentence runs to the end
    assert by_id["q3"]["candidate"] == "The river is 12 km long. it has a bridge."
    assert by_id["q4"]["candidate_id"] == by_id["q1"]["candidate_id"]  # one sentence, one candidate
    assert by_id["q5"]["candidate_id"] == "train_0_0"  # an answer is placed by its first character, as XTREME-R


def mewslix_entity(entity_id: str, description: str) -> dict:
    return {
        "entity_id": entity_id,
        "title": entity_id,
        "description": description,
        "description_language": "en",
        "description_url": "u",
        "sentence_spans": [{"start": 0, "end": len(description)}],
    }


def test_mewslix_builds_marked_queries_against_the_entity_pool(tmp_path):
    text = "Intro. Die {alte} Stadt Bonn liegt am Rhein."
    start = text.index("Bonn")
    span = {"start": start, "end": start + 4, "text": "Bonn"}
    mention = {"example_id": "m1", "entity_id": "Q1", "mention_span": span}
    context = {
        "document_title": "d",
        "document_url": "u",
        "document_id": "d",
        "language": "de",
        "text": text,
        "sentence_spans": [{"start": 0, "end": 6}, {"start": 7, "end": len(text)}],
    }
    other = dict(context, language="ja")
    lines = [json.dumps({"context": context, "mention": mention}), json.dumps({"context": other, "mention": mention})]
    write(tmp_path, "mewslix/wikinews_mentions-test.jsonl", "\n".join(lines) + "\n")
    entities = [mewslix_entity("Q1", "Bonn is a city."), mewslix_entity("Q2", "Tea is a drink.")]
    write(tmp_path, "mewslix/candidate_set_entities.jsonl", "".join(json.dumps(e) + "\n" for e in entities))
    mention_example, *pool = get_task("mewslix").load("test", "de", tmp_path)
    assert mention_example == {
        "id": "m1",
        "query": "Bonn: Die (alte) Stadt { Bonn } liegt am Rhein.",
        "relevant": ["Q1"],
    }
    assert pool == [
        {"id": "Q1", "candidate": "Bonn is a city.", "candidate_id": "Q1"},
        {"id": "Q2", "candidate": "Tea is a drink.", "candidate_id": "Q2"},
    ]


# ---- finding files -------------------------------------------------------------------------------------


def test_missing_file_names_every_path_looked_at(tmp_path):
    with pytest.raises(XltError) as error:
        get_task("xcopa").load("test", "qu", tmp_path)
    message = str(error.value)
    assert str(tmp_path / "xcopa/qu/test.qu.jsonl") in message and str(tmp_path / "xcopa/test.qu.jsonl") in message
    assert "data.dir" in message and "it holds no xcopa test file" in message and "\n" not in message


def test_split_a_task_lacks_raises(tmp_path):
    with pytest.raises(XltError, match="task xquad has no local 'train' split"):
        get_task("xquad").load("train", "en", tmp_path)


def test_tasks_without_a_hub_source_ask_for_a_data_dir():
    with pytest.raises(XltError, match="bucc2018 has no Hugging Face Hub source"):
        get_task("bucc2018").load("test", "de", None)


def test_release_rows_must_match_their_header(tmp_path):
    write(tmp_path, "x-final/de/dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\tS1\tS2\t1\n2\tT1\n")
    with pytest.raises(XltError, match=r"dev_2k\.tsv line 3 has 2 fields, fewer than the 4 its header needs"):
        get_task("pawsx").load("dev", "de", tmp_path)


def test_sentence_spans_break_after_end_punctuation_before_a_capital_or_digit():
    from xlt.data.sentences import sentence_spans

    text = 'One. "Two?" (Three!) 4 is four. e.g. five.  Six'
    expected = ["One.", '"Two?"', "(Three!)", "4 is four. e.g. five.", "Six"]
    assert [text[a:b] for a, b in sentence_spans(text)] == expected
    assert sentence_spans("") == [] and sentence_spans("No break here") == [(0, 13)]
