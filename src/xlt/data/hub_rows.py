"""Converters from Hugging Face Hub rows to xlt example dicts (the `Convert` of `xlt.data.sources`).

Hub datasets store labels as `ClassLabel` integers: converters map them back to the label strings
the release files use, so a task's examples look the same from either source.
"""

from __future__ import annotations

from collections.abc import Callable


def _label_name(dataset, column: str) -> Callable[[int], str]:
    feature = dataset.features[column]
    names = getattr(feature, "names", None)
    return (lambda value: names[value]) if names else str


def sib200_rows(dataset, split: str, lang: str) -> list[dict]:
    """Davlan/sib200's rows (index_id, category, text), as the release files read (`formats.sib200_tsv`)."""
    name = _label_name(dataset, "category")
    return [
        {"id": f"{split}-{row['index_id']}", "text": row["text"], "label": name(row["category"]).strip()}
        for row in dataset
    ]


def pair_rows(text_a: str, text_b: str, label: str = "label") -> Callable:
    def convert(dataset, split: str, lang: str) -> list[dict]:
        name = _label_name(dataset, label)
        return [
            {"id": f"{split}-{lang}-{index}", "text_a": row[text_a], "text_b": row[text_b], "label": name(row[label])}
            for index, row in enumerate(dataset)
        ]

    return convert


def tag_rows(tags: str) -> Callable:
    def convert(dataset, split: str, lang: str) -> list[dict]:
        names = dataset.features[tags].feature.names
        return [
            {"id": f"{split}-{lang}-{index}", "tokens": list(row["tokens"]), "tags": [names[t] for t in row[tags]]}
            for index, row in enumerate(dataset)
        ]

    return convert


def squad_rows(id_prefix: Callable[[str], str] | None = None) -> Callable:
    """SQuAD-shaped rows; `id_prefix(lang)` keeps only the rows of one language (TyDiQA mixes them)."""

    def convert(dataset, split: str, lang: str) -> list[dict]:
        prefix = id_prefix(lang) if id_prefix else ""
        return [
            {
                "id": row["id"],
                "context": row["context"],
                "question": row["question"],
                "answers": [
                    {"text": text, "answer_start": start}
                    for text, start in zip(row["answers"]["text"], row["answers"]["answer_start"])
                ],
            }
            for row in dataset
            if row["id"].startswith(prefix)
        ]

    return convert


def copa_rows(dataset, split: str, lang: str) -> list[dict]:
    return [
        {
            "id": f"{split}-{lang}-{row['idx']}",
            "premise": row["premise"],
            "question": row["question"],
            "choices": [row["choice1"], row["choice2"]],
            "label": int(row["label"]),
        }
        for row in dataset
    ]


def siqa_rows(dataset, split: str, lang: str) -> list[dict]:
    return [
        {
            "id": f"{split}-{lang}-{index}",
            "premise": row["context"],
            "question": row["question"],
            "choices": [row["answerA"], row["answerB"], row["answerC"]],
            "label": int(row["label"]) - 1,
        }
        for index, row in enumerate(dataset)
    ]


def bitext_rows(query: str, candidate: str) -> Callable:
    def convert(dataset, split: str, lang: str) -> list[dict]:
        return [
            {"id": f"{split}-{lang}-{index}", "query": row[query].strip(), "candidate": row[candidate].strip()}
            for index, row in enumerate(dataset)
        ]

    return convert
