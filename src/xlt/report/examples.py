"""Per-example outputs (`xlt.results.layout.EXAMPLES`): which recipes are degenerate (predict one label, or exactly
what the majority reference predicts) in a language, and the test examples where recipes disagree, to read beside the
scores.

A degenerate recipe's score is the majority baseline's, not a measure of transfer, so a contrast with it is exact
and meaningless (+0.00 [+0.00, +0.00]); the report marks it wherever it shows the recipe's numbers. A study whose
evaluations predate these files has no marks and no examples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from xlt.errors import XltError
from xlt.report.render import Block, Heading, Table
from xlt.report.study import Recipe, Section
from xlt.results.layout import EXAMPLES

MAJORITY = Recipe("majority", "none")
DEGENERATE_MARK = "†"
DEGENERATE_NOTE = (
    f"{DEGENERATE_MARK} = degenerate: in some seed the recipe predicts a single label in that language, or exactly "
    "what the majority reference predicts (its score is that baseline, not transfer)"
)
SHOWN = 160  # characters of an example's text or prediction shown in a table cell


class ExamplesStore:
    """Reads examples/{method}.{intermediate}.seed{N}/{task}/{split}-{lang}.jsonl once each; a missing file is None,
    a malformed one an error."""

    def __init__(self, study_dir: Path):
        self.root = Path(study_dir) / EXAMPLES
        self._cache: dict[Path, list[dict] | None] = {}

    def get(self, section: Section, recipe: Recipe, seed: str, lang: str) -> list[dict] | None:
        run = f"{recipe.method}.{recipe.intermediate}.seed{seed}"
        path = self.root / run / section.task / f"{section.split}-{lang}.jsonl"
        if path not in self._cache:
            self._cache[path] = read_examples(path) if path.is_file() else None
        return self._cache[path]


def read_examples(path: Path) -> list[dict]:
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise XltError(
                f"{path} line {number} is not JSON ({exc}); delete the file and rerun its evaluation"
            ) from None
        if not isinstance(record, dict) or not {"id", "gold", "prediction"} <= record.keys():
            raise XltError(
                f"{path} line {number} lacks id, gold or prediction; delete the file and rerun its evaluation"
            )
        records.append(record)
    return records


@dataclass(frozen=True)
class Degenerate:
    """(section slug, recipe label, language) -> the seeds in which the recipe is degenerate there."""

    seeds: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)

    def marked(self, section: Section, recipe: Recipe, lang: str) -> bool:
        return (section.slug, recipe.label, lang) in self.seeds

    def languages(self, section: Section, recipe: Recipe) -> list[str]:
        return [lang for lang in section.languages if self.marked(section, recipe, lang)]

    def mark(self, section: Section, recipe: Recipe, lang: str) -> str:
        return DEGENERATE_MARK if self.marked(section, recipe, lang) else ""

    def __bool__(self) -> bool:
        return bool(self.seeds)


NO_MARKS = Degenerate()  # a study without per-example outputs, or a table printed without marks


def degenerate(sections: list[Section], store: ExamplesStore) -> Degenerate:
    """Every recipe (references aside) and language where some seed's predictions are one label, or the majority
    reference's predictions of the same seed (else of its first seed)."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for section in sections:
        for recipe in section.recipes:
            if recipe.is_reference:
                continue
            for seed, by_language in section.cells[recipe].items():
                for lang in by_language:
                    records = store.get(section, recipe, seed, lang)
                    if records and _is_degenerate(records, _majority(section, store, seed, lang)):
                        found.setdefault((section.slug, recipe.label, lang), []).append(seed)
    return Degenerate(found)


def _majority(section: Section, store: ExamplesStore, seed: str, lang: str) -> list[dict] | None:
    seeds = section.seeds(MAJORITY) if MAJORITY in section.cells else []
    chosen = seed if seed in seeds else next(iter(seeds), None)
    return None if chosen is None else store.get(section, MAJORITY, chosen, lang)


def _is_degenerate(records: list[dict], majority: list[dict] | None) -> bool:
    labels = {_key(label) for record in records for label in _labels(record["prediction"])}
    same_as_majority = majority is not None and [r["prediction"] for r in records] == [
        r["prediction"] for r in majority
    ]
    return len(labels) <= 1 or same_as_majority


def _labels(prediction: object) -> list:
    """A tag sequence counts its tags (one tag for every word is one label); any other prediction is one label."""
    return prediction if isinstance(prediction, list) and all(isinstance(p, str) for p in prediction) else [prediction]


def _key(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def example_blocks(sections: list[Section], store: ExamplesStore, count: int) -> list[Block]:
    """Per section, a table of `count` test examples per language where the recipes' predictions differ most: the
    text, the gold and each recipe's prediction (one seed's)."""
    blocks: list[Block] = []
    for section in sections:
        table = _examples_table(section, store, count)
        if table is not None:
            blocks += [Heading(section.title, 3), table]
    if not blocks:
        return []
    return [Heading("Examples"), *blocks]


def _examples_table(section: Section, store: ExamplesStore, count: int) -> Table | None:
    recipes = [recipe for recipe in section.recipes if not recipe.is_reference]
    seed = _common_seed(section, recipes)
    if seed is None:
        return None
    rows = []
    for lang in section.languages:
        runs = [store.get(section, recipe, seed, lang) for recipe in recipes]
        if any(records is None for records in runs):
            continue
        by_id = [{record["id"]: record for record in records or []} for records in runs]
        ids = [record["id"] for record in runs[0] or [] if all(record["id"] in found for found in by_id)]
        chosen = sorted(ids, key=lambda id_: -_disagreement([found[id_] for found in by_id]))[:count]
        for id_ in chosen:
            records = [found[id_] for found in by_id]
            if _disagreement(records) < 2:
                break  # the rest agree too: nothing to see
            first = records[0]
            rows.append(
                [lang, id_, _text(first.get("text")), _shown(first["gold"])]
                + [_shown(r["prediction"]) + (" ✓" if r["prediction"] == r["gold"] else "") for r in records]
            )
    if not rows:
        return None
    caption = (
        f"up to {count} {section.split} examples per language where the recipes' predictions differ most (most "
        f"distinct predictions first), seed {seed}'s predictions; ✓ = the gold; all of them: examples/"
    )
    return Table(["language", "id", "text", "gold", *(r.label for r in recipes)], rows, caption)


def _common_seed(section: Section, recipes: list[Recipe]) -> str | None:
    if not recipes:
        return None
    common = [seed for seed in section.seeds(recipes[0]) if all(seed in section.cells[r] for r in recipes)]
    return min(common, key=lambda seed: (len(seed), seed), default=None)


def _disagreement(records: list[dict]) -> int:
    return len({_key(record["prediction"]) for record in records})


def _text(text: object) -> str:
    if not isinstance(text, dict):
        return ""
    parts = [value if isinstance(value, str) else " ".join(map(str, value)) for value in text.values()]
    return _cut(" | ".join(parts))


def _shown(value: object) -> str:
    if isinstance(value, list):
        return _cut(" ".join(map(str, value)))
    return _cut(str(value))


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
