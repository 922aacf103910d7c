"""Readers of the official release formats (and of XTREME's preprocessed files) into xlt example dicts.

Every reader has the `Reader` signature of `xlt.data.sources`: (path, split, lang) -> examples, in
file order, with ids that stay the same from run to run (the release's own id where it has one).
Gold labels are required: XTREME's download script strips test labels, and such a file raises
an XltError rather than yielding examples nobody can score. `read_release` runs a reader and turns
every way a damaged or foreign file fails into one line naming the file (and its line where known).
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from xlt.errors import XltError

NLI_LABELS = {"contradictory": "contradiction"}  # XNLI-MT spells one label differently


def _lines(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\r\n") for line in handle]


def read_release(
    read: Callable[[Path, str, str], list[dict]], path: Path, split: str, lang: str, task: str
) -> list[dict]:
    """`read(path, split, lang)`, failing with one XltError line for a file that is empty, not UTF-8,
    not valid JSON, or not in the task's release format (a missing field or column), or holds no examples."""
    advice = "use the task's official release file, complete and unmodified"
    if path.stat().st_size == 0:
        raise XltError(f"{path} is empty; {advice}")
    try:
        examples = read(path, split, lang)
    except UnicodeDecodeError as err:
        raise XltError(f"{path} is not UTF-8 text (invalid byte at position {err.start}); {advice}") from None
    except json.JSONDecodeError as err:
        raise XltError(f"{path} line {err.lineno}: not valid JSON ({err.msg}), perhaps cut short; {advice}") from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        found = f"no {err.args[0]!r} field" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
        raise XltError(f"{path} is not in the {task} release format ({found}); {advice}") from None
    if not examples:
        raise XltError(f"{path} holds no {task} {split} examples for language {lang!r}; {advice}")
    return examples


class _Row(dict):
    """A JSON-lines row that names its file and line when a field it lacks is read."""

    def __init__(self, row: dict, where: str):
        super().__init__(row)
        self.where = where

    def __missing__(self, key: str):
        raise XltError(f"{self.where} has no {key!r} field; use the task's official release file, unmodified")


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise XltError(
                f"{path} line {number}: not valid JSON ({err.msg}, column {err.colno}), perhaps cut"
                f" short; use the task's official release file, complete and unmodified"
            ) from None
        if not isinstance(row, dict):
            raise XltError(f"{path} line {number} holds a JSON {type(row).__name__}, not an object")
        yield number, _Row(row, f"{path} line {number}")


def _missing_labels(path: Path, where: str) -> XltError:
    return XltError(
        f"{path}{where} has no gold labels: xlt needs the labelled release file, not one whose labels"
        f" XTREME's download script stripped"
    )


# ---- single sentences ----------------------------------------------------------------------------


def sib200_tsv(path: Path, split: str, lang: str) -> list[dict]:
    """SIB-200's release TSVs: a header `index_id<TAB>category<TAB>text`, written by pandas (csv-quoted); the
    release's index_id (the sentence's Flores-200 index) is the example's id, the same in every language."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = [name for name in ("index_id", "category", "text") if name not in (reader.fieldnames or ())]
        if missing:
            raise XltError(
                f"{path} lacks the column(s) {', '.join(missing)}: expected a header index_id, category, text"
            )
        return [
            {"id": f"{split}-{row['index_id']}", "text": row["text"], "label": (row["category"] or "").strip()}
            for row in reader
        ]


# ---- sentence pairs --------------------------------------------------------------------------


def xtreme_pairs(path: Path, split: str, lang: str) -> list[dict]:
    """XTREME's XNLI/PAWS-X files: `text_a<TAB>text_b<TAB>label` a row, written by `csv.writer`."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    examples: list[dict] = []
    for number, row in enumerate(rows, start=1):
        if len(row) < 3:
            raise _missing_labels(path, f" line {number}")
        examples.append(_pair(f"{split}-{lang}-{len(examples)}", row[0], row[1], row[2]))
    return examples


def headed_pairs(text_a: str, text_b: str, label: str, language: str | None = None) -> Callable:
    """A reader of release TSVs with a header row (PAWS-X, XNLI-1.0, XNLI-MT, GLUE MNLI).

    These files are not csv-quoted (MNLI sentences hold stray quotes), so fields split on tabs only.
    `language` names a column that filters the rows (XNLI-1.0 holds every language in one file).
    """

    def read(path: Path, split: str, lang: str) -> list[dict]:
        lines = _lines(path)
        header = lines[0].split("\t")
        missing = [name for name in (text_a, text_b, label, language) if name and name not in header]
        if missing:
            raise XltError(
                f"{path} lacks the column(s) {', '.join(missing)}: expected a header with {text_a}, {text_b}, {label}"
            )
        column = {name: header.index(name) for name in header}
        needed = 1 + max(column[name] for name in (text_a, text_b, label, language) if name)
        examples: list[dict] = []
        for number, line in enumerate(lines[1:], start=2):
            fields = line.split("\t")
            if not line.strip():
                continue
            if len(fields) < needed:
                raise XltError(
                    f"{path} line {number} has {len(fields)} fields, fewer than the {needed} its header needs"
                )
            if language and fields[column[language]] != lang:
                continue
            row_id = f"{split}-{lang}-{len(examples)}"
            examples.append(_pair(row_id, fields[column[text_a]], fields[column[text_b]], fields[column[label]]))
        return examples

    return read


def _pair(example_id: str, text_a: str, text_b: str, label: str) -> dict:
    label = label.strip()
    return {"id": example_id, "text_a": text_a, "text_b": text_b, "label": NLI_LABELS.get(label, label)}


# ---- word-level tags ---------------------------------------------------------------------------


def conll_tags(path: Path, split: str, lang: str) -> list[dict]:
    """`word<TAB>tag` a line, a blank line between sentences (XTREME's UD-POS and PAN-X files).

    Runs of blank lines count as one break (PAN-X files have doubled ones, xtreme#16).
    """
    examples: list[dict] = []
    tokens: list[str] = []
    tags: list[str] = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            if tokens:
                examples.append({"id": f"{split}-{lang}-{len(examples)}", "tokens": tokens, "tags": tags})
            tokens, tags = [], []
            continue
        word, tab, tag = line.rpartition("\t")
        if not tab:
            raise _missing_labels(path, f" line {number}")
        tokens.append(word)
        tags.append(tag.strip())
    if tokens:
        examples.append({"id": f"{split}-{lang}-{len(examples)}", "tokens": tokens, "tags": tags})
    return examples


# ---- extractive QA -------------------------------------------------------------------------------


def squad_json(path: Path, split: str, lang: str) -> list[dict]:
    """SQuAD v1.1 JSON (SQuAD, XQuAD, MLQA, TyDiQA-GoldP): one example per question, id = the release's qid
    (positional ids instead when a file repeats qids)."""
    with open(path, encoding="utf-8") as handle:
        articles = json.load(handle)["data"]
    examples = [
        {
            "id": qa["id"],
            "context": paragraph["context"],
            "question": qa["question"],
            "answers": [{"text": a["text"], "answer_start": a["answer_start"]} for a in qa["answers"]],
        }
        for article in articles
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]
    if examples and not any(a["text"] for ex in examples for a in ex["answers"]):
        raise _missing_labels(path, "")
    if len({example["id"] for example in examples}) < len(examples):
        # XTREME's per-language TyDiQA train files keep only the last part of each qid, which repeats
        for index, example in enumerate(examples):
            example["id"] = f"{split}-{lang}-{index}"
    return examples


# ---- multiple choice ------------------------------------------------------------------------------


def copa_jsonl(path: Path, split: str, lang: str) -> list[dict]:
    """COPA / XCOPA JSON lines: premise, choice1, choice2, question (cause|effect), label, idx."""
    examples: list[dict] = []
    for number, row in _jsonl(path):
        if "label" not in row:
            raise _missing_labels(path, f" line {number}")
        examples.append(
            {
                "id": f"{split}-{lang}-{row.get('idx', len(examples))}",
                "premise": row["premise"],
                "question": row["question"],
                "choices": [row["choice1"], row["choice2"]],
                "label": int(row["label"]),
            }
        )
    return examples


def siqa_jsonl(path: Path, split: str, lang: str) -> list[dict]:
    """Social IQa release: `{split}.jsonl` (context, question, answerA-C) and `{split}-labels.lst` (1-3)."""
    labels_path = path.with_name(f"{path.stem}-labels.lst")
    if not labels_path.is_file():
        raise XltError(f"{labels_path} does not exist: Social IQa keeps the gold answers of {path.name} there")
    labels = [line for line in _lines(labels_path) if line.strip()]
    rows = [row for _, row in _jsonl(path)]
    if len(labels) != len(rows):
        raise XltError(
            f"{labels_path} has {len(labels)} labels for {len(rows)} questions in {path.name}: use the matching files"
        )
    return [
        {
            "id": f"{split}-{lang}-{index}",
            "premise": row["context"],
            "question": row["question"],
            "choices": [row["answerA"], row["answerB"], row["answerC"]],
            "label": int(label) - 1,
        }
        for index, (row, label) in enumerate(zip(rows, labels))
    ]


# ---- retrieval -----------------------------------------------------------------------------------
# Parallel pairs: query i's gold is candidate i. Mining and pooled tasks (BUCC, LAReQA, Mewsli-X) add
# sentences with no partner (query or candidate None) and "candidate_id"s that identify a candidate
# across examples (equal ids are one candidate of the pool).


def tatoeba_pairs(path: Path, split: str, lang: str) -> list[dict]:
    """LASER's Tatoeba release: `tatoeba.{xxx}-eng.{xxx}` and `.eng`, line i of each a translation pair.

    In release order (the tatoeba task sorts the queries as XTREME does). The English sentence is the
    query, as in XTREME's evaluation, which searches the other language for each English sentence
    (accuracy differs by direction).
    """
    english_path = path.with_suffix(".eng")
    if not english_path.is_file():
        raise XltError(f"{english_path} does not exist: Tatoeba needs both sides of {path.name}")
    queries = [line.strip() for line in _lines(english_path)]
    candidates = [line.strip() for line in _lines(path)]
    if len(queries) != len(candidates):
        raise XltError(
            f"{path} has {len(queries)} lines but {english_path.name} has {len(candidates)}: they must be parallel"
        )
    return [
        {"id": f"{split}-{lang}-{index}", "query": query, "candidate": candidate}
        for index, (query, candidate) in enumerate(zip(queries, candidates))
    ]


def bucc_sentences(path: Path, split: str, lang: str) -> list[dict]:
    """BUCC 2018: `{xx}-en.{split}.{xx}` and `.en` (`id<TAB>sentence`), gold pairs in `.gold` when present.

    Gold pairs come first (query i <-> candidate i), then the unpaired sentences of each side.
    """
    sources = _bucc_side(path)
    targets = _bucc_side(path.with_suffix(".en"))
    gold_path = path.with_suffix(".gold")
    gold = [tuple(line.split("\t")) for line in _lines(gold_path) if line.strip()] if gold_path.is_file() else []
    paired_sources = {source for source, _ in gold}
    paired_targets = {target for _, target in gold}
    examples: list[dict] = [
        {"id": source, "query": sources[source], "candidate": targets[target], "candidate_id": target}
        for source, target in gold
    ]
    examples += [
        {"id": source, "query": text, "candidate": None, "candidate_id": None}
        for source, text in sources.items()
        if source not in paired_sources
    ]
    examples += [
        {"id": target, "query": None, "candidate": text, "candidate_id": target}
        for target, text in targets.items()
        if target not in paired_targets
    ]
    return examples


def _bucc_side(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise XltError(f"{path} does not exist: BUCC needs both sides of the corpus")
    return dict(line.split("\t", 1) for line in _lines(path) if line.strip())


def xquad_r(path: Path, split: str, lang: str) -> list[dict]:
    """LAReQA's XQuAD-R (`xquad-r/{lang}.json`: SQuAD JSON plus `sentence_breaks` per paragraph).

    The questions of `lang` ({"id", "query", "relevant"}), then the pool: every sentence of every
    language file in the folder ({"id", "candidate", "candidate_id": "{lang}_{paragraph}_{sentence}",
    "candidate_context"}). A question's relevant set is the answer sentence of each of its parallel
    questions (the same `xling_id`: the question id shared across languages), as in LAReQA.
    """
    if not path.is_file():
        raise XltError(f"{path} does not exist: LAReQA needs xquad-r/{{lang}}.json for each evaluated language")
    questions, pool = {}, []
    for file in sorted(path.parent.glob("*.json")):
        file_questions, file_pool = _xquad_r_language(file, file.stem)
        questions[file.stem] = file_questions
        pool += file_pool
    relevant: dict[str, list[str]] = {}
    for language_questions in questions.values():
        for question in language_questions:
            relevant.setdefault(question["group"], []).append(question["candidate_id"])
    queries = [{"id": q["id"], "query": q["query"], "relevant": relevant[q["group"]]} for q in questions[lang]]
    return queries + pool


@functools.lru_cache(maxsize=16)
def _xquad_r_language(path: Path, lang: str) -> tuple[list[dict], list[dict]]:
    """One file's questions and sentences; every language's evaluation reads all 11 files, so they are read
    once per process (callers build new lists and never change the dicts)."""
    with open(path, encoding="utf-8") as handle:
        articles = json.load(handle)["data"]
    questions, pool = [], []
    paragraphs = (paragraph for article in articles for paragraph in article["paragraphs"])
    for number, paragraph in enumerate(paragraphs, start=1):
        context, breaks = paragraph["context"], paragraph["sentence_breaks"]
        pool += [
            {
                "id": f"{lang}_{number}_{position}",
                "candidate": context[start:end],
                "candidate_id": f"{lang}_{number}_{position}",
                "candidate_context": context,
            }
            for position, (start, end) in enumerate(breaks)
        ]
        for qa in paragraph["qas"]:
            answer_start = qa["answers"][0]["answer_start"]
            position = next((i for i, (start, end) in enumerate(breaks) if start <= answer_start < end), None)
            if position is None:  # the answer starts outside every sentence: the official loader skips it too
                continue
            questions.append(
                {
                    "id": f"{qa['id']}_{lang}",
                    "query": qa["question"],
                    "group": qa["id"],
                    "candidate_id": f"{lang}_{number}_{position}",
                }
            )
    return questions, pool


def mewslix_mentions(path: Path, split: str, lang: str) -> list[dict]:
    """Mewsli-X WikiNews mentions (`wikinews_mentions-{split}.jsonl`) of one language ({"id", "query",
    "relevant": [gold entity id]}), then the whole entity pool of `candidate_set_entities.jsonl` beside it."""
    entities = _mewslix_entities(path.with_name("candidate_set_entities.jsonl"))
    mentions = [row for _, row in _jsonl(path) if row["context"]["language"] == lang]
    examples = []
    for row in mentions:
        mention = row["mention"]
        entity_id = mention["entity_id"]
        if entity_id not in entities:
            raise XltError(
                f"{path}: mention {mention['example_id']} links to {entity_id}, which the candidate set lacks"
            )
        examples.append(
            {"id": mention["example_id"], "query": mewslix_query(row["context"], mention), "relevant": [entity_id]}
        )
    return examples + [
        {"id": entity_id, "candidate": text, "candidate_id": entity_id} for entity_id, text in entities.items()
    ]


def mewslix_pairs(path: Path, split: str, lang: str) -> list[dict]:
    """Mewsli-X English Wikipedia fine-tuning pairs (`wikipedia_pairs-{split}.jsonl`): mention -> entity."""
    examples = []
    for _, row in _jsonl(path):
        contextual, entity = row["contextual_mention"], row["entity"]
        mention = contextual["mention"]
        examples.append(
            {
                "id": mention["example_id"],
                "query": mewslix_query(contextual["context"], mention),
                "candidate": _entity_text(entity),
                "candidate_id": entity["entity_id"],
            }
        )
    return examples


def mewslix_query(context: dict, mention: dict) -> str:
    """The baseline query of XTREME-R: "span: left { span } right" over the mention's sentence.

    Existing "{...}" in the text become "(...)" so the markers stay unambiguous.
    """
    span = mention["mention_span"]
    sentence = next(
        (s for s in context["sentence_spans"] if s["start"] <= span["start"] and span["end"] <= s["end"]),
        {"start": 0, "end": len(context["text"])},  # no sentence holds the span: keep the whole text
    )
    text = context["text"]
    left = _escape_markers(text[sentence["start"] : span["start"]])
    right = _escape_markers(text[span["end"] : sentence["end"]])
    query = f"{span['text']}: {left} {{ {span['text']} }} {right}"
    return " ".join(query.splitlines()).replace("  ", " ").strip()


def _escape_markers(text: str) -> str:
    return re.sub(r"\{(.*?)\}", r"(\1)", text)


def _entity_text(entity: dict) -> str:
    description = entity["description"]
    sentences = " ".join(description[s["start"] : s["end"]] for s in entity["sentence_spans"])
    return " ".join(sentences.splitlines()).replace("  ", " ").strip()


@functools.lru_cache(maxsize=1)
def _mewslix_entities(path: Path) -> dict[str, str]:
    """The ~1M-entity pool is shared by all languages: read it once per process."""
    if not path.is_file():
        raise XltError(f"{path} does not exist: Mewsli-X needs its candidate set beside the mention files")
    return {row["entity_id"]: _entity_text(row) for _, row in _jsonl(path)}
