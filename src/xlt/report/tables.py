"""The report's tables, built from a section's `Summary` and the optional JSON side files."""

from __future__ import annotations

from xlt.report.comparisons import ContrastTable, Row
from xlt.report.contrasts import interval_note, multiplicity_note
from xlt.report.examples import DEGENERATE_MARK, DEGENERATE_NOTE, NO_MARKS, Degenerate
from xlt.report.render import Table
from xlt.report.stats import Summary
from xlt.results.records import REFERENCES  # the first: majority, whose NT is never defined

MISSING = "–"


def language_header(summary: Summary) -> list[str]:
    train = summary.section.train_languages
    return [f"{lang} (train)" if lang in train else lang for lang in summary.section.languages]


def score_table(summary: Summary, degenerate: Degenerate = NO_MARKS) -> Table:
    section = summary.section
    header = ["recipe", "seeds", *language_header(summary), "avg", "gap"]
    if summary.normalised is not None:
        header.append("NT")
    rows = []
    for recipe in section.recipes:
        scores = summary.scores[recipe]
        row = [recipe.label, str(len(section.seeds(recipe)))]
        row += [_number(scores.get(lang)) + degenerate.mark(section, recipe, lang) for lang in section.languages]
        row += [_number(summary.average[recipe]), _number(summary.gap[recipe], signed=True)]
        if summary.normalised is not None:
            row.append(_number(summary.normalised.get(recipe), digits=3))
        rows.append(row)
    average = (
        "mean over all examples of all languages, as the task's official score"
        if summary.pooled
        else ("mean over languages")
    )
    caption = (
        f"{section.metric} x100, mean over seeds; avg = {average}; gap = training-language score "
        "minus the mean of the other languages"
    )
    if summary.normalised is not None:
        caption += "; NT = mean over other languages of (score - majority) / (training score - training majority)"
        if any(summary.normalised.get(recipe) is None for recipe in section.recipes if recipe.label != REFERENCES[0]):
            caption += f" ({MISSING} where the training score does not beat the majority's: no transfer to normalise)"
    if any(degenerate.languages(section, recipe) for recipe in section.recipes):
        caption += f"; {DEGENERATE_NOTE}"
    return Table(header, rows, caption)


def contrast_table(table: ContrastTable, degenerate: Degenerate = NO_MARKS) -> Table:
    """Per language a - b with its interval, raw and adjusted p-values; then the average rows. A language where
    recipe a or b is degenerate is marked."""
    header = ["language", "group", "a - b", "95% interval", "p", "p adjusted", "seeds"]
    recipes = (table.comparison.a, table.comparison.b)
    marks = {
        lang: DEGENERATE_MARK
        for lang in table.section.languages
        if any(degenerate.marked(table.section, r, lang) for r in recipes)
    }
    rows = [
        _contrast_row(row, table.section.train_languages, marks.get(row.language, ""))
        for row in table.languages + table.averages
    ]
    first = next((row.contrast for row in table.languages + table.averages if row.contrast), None)
    note = interval_note(first.seeds, first.paired) if first else "no interval: units missing or unpaired"
    caption = (
        f"{table.comparison.title} ({table.section.metric}, points); {note}; "
        f"{multiplicity_note(table.method)}; seen = a training stage of either recipe drew examples in "
        "the language (intermediate mixture or the target's training languages)"
    )
    return Table(header, rows, caption + (f"; {DEGENERATE_NOTE} (a or b)" if marks else ""))


def _contrast_row(row: Row, train_languages: tuple[str, ...], mark: str = "") -> list[str]:
    language = (f"{row.language} (train)" if row.language in train_languages else row.language) + mark
    c = row.contrast
    if c is None:
        return [language, row.group, f"{row.difference:+.2f}", "n/a", "", "", ""]
    seeds = str(c.seeds[0]) if c.paired else f"{c.seeds[0]}+{c.seeds[1]}"
    mark = " *" if row.significant else ""
    return [
        language,
        row.group,
        f"{row.difference:+.2f}{mark}",
        f"[{c.low:+.2f}, {c.high:+.2f}]",
        format_p(c.p_value),
        format_p(row.p_adjusted),
        seeds,
    ]


def format_p(value: float | None) -> str:
    if value is None:
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def published_table(published: list[dict], scores: dict[tuple[str, str, str, str], float]) -> Table:
    """The config's published numbers beside this run's: `scores` maps (task, language or "average", metric,
    recipe label) to this run's value."""
    rows = []
    for entry in published:
        recipe = entry.get("recipe")
        matches = {
            label: value
            for (task, lang, metric, label), value in scores.items()
            if (task, lang, metric) == (entry["task"], entry["language"], entry["metric"])
            and (recipe is None or label == recipe)
        }
        run = ", ".join(f"{label} {value:.1f}" for label, value in matches.items()) or MISSING
        rows.append([entry["task"], entry["language"], entry["metric"], f"{entry['value']:.1f}", run, entry["source"]])
    caption = "published numbers (x100) beside this run's mean over seeds; average = over the evaluated languages"
    return Table(["task", "language", "metric", "published", "this run", "source"], rows, caption)


LEADING = ("name", "family", "script")  # languages.json properties shown first


def language_table(properties: dict, languages: list[str]) -> Table | None:
    """languages.json ({lang: {property: value}}) as properties x the section's languages."""
    described = [lang for lang in languages if isinstance(properties.get(lang), dict)]
    if not described:
        return None
    names = list(dict.fromkeys(name for lang in described for name in properties[lang]))
    names.sort(key=lambda name: LEADING.index(name) if name in LEADING else len(LEADING))  # stable: the rest in order
    rows = [[name] + [_scalar(properties.get(lang, {}).get(name)) for lang in languages] for name in names]
    return Table(["property", *languages], rows, "from languages.json")


# Stage columns and where the pipeline's provenance.json keeps them in each `stages` record.
STAGE_FIELDS = {
    "stage": ("stage",),
    "seed": ("seed",),
    "steps": ("steps",),
    "trainable params": ("parameters", "trainable"),
    "total params": ("parameters", "total"),
    "wall s": ("wall_seconds",),
    "final loss": ("final_loss",),
    "selected step": ("selection", "dev", "step"),
    "oracle step": ("selection", "target-dev", "step"),
}
STAGE_COLUMNS = (
    "stage",
    "seed",
    "steps",
    "selected step",
    "oracle step",
    "examples drawn",
    "trainable params",
    "total params",
    "trainable %",
    "wall s",
    "final loss",
)
COUNTS = ("steps", "trainable params", "total params")  # shown with thousands separators


def provenance_tables(provenance: dict) -> list[Table]:
    """Top-level facts (commit, device, seeds...), package versions, and per stage its size and time."""
    facts = [[key, _scalar(value)] for key, value in provenance.items() if _is_plain(value)]
    config = provenance.get("config")
    if isinstance(config, dict) and isinstance(config.get("seeds"), list):
        facts.append(["seeds (config)", _scalar(config["seeds"])])
    tables = [Table(["field", "value"], facts)] if facts else []
    versions = provenance.get("versions")
    if isinstance(versions, dict) and versions:
        tables.append(Table(["package", "version"], [[k, _scalar(v)] for k, v in versions.items()]))
    stages = provenance.get("stages")
    if isinstance(stages, dict):
        tables += _stage_table([record for record in stages.values() if isinstance(record, dict)])
    evaluations = provenance.get("evaluations")
    if isinstance(evaluations, dict) and evaluations:
        tables.append(_checkpoint_table([record for record in evaluations.values() if isinstance(record, dict)]))
    return tables


def _checkpoint_table(records: list[dict]) -> Table:
    """Which checkpoint each evaluation scored: an oracle row's is its own selection's, not the stage's."""
    columns = ["recipe", "intermediate", "task", "seed", "stage", "checkpoint", "step"]
    rows = [
        [_scalar(_lookup(r, (name,))) for name in columns[:4]]
        + [_scalar(_lookup(r, ("checkpoint", field))) for field in ("stage", "name", "step")]
        for r in records
    ]
    return Table(columns, rows, "evaluations: the checkpoint each scored")


def _stage_table(records: list[dict]) -> list[Table]:
    """The stage table, or none when no record holds a known field."""
    values = [_stage_values(record) for record in records]
    columns = [name for name in STAGE_COLUMNS if any(row.get(name) is not None for row in values)]
    rows = [[_scalar(row.get(name), thousands=name in COUNTS) for name in columns] for row in values]
    return [Table(columns, rows, "training stages")] if columns else []


def _stage_values(record: dict) -> dict[str, object]:
    row = {name: _lookup(record, path) for name, path in STAGE_FIELDS.items()}
    trainable, total = row["trainable params"], row["total params"]
    if isinstance(trainable, int) and isinstance(total, int) and total:
        row["trainable %"] = 100 * trainable / total
    mixture = record.get("mixture")
    if isinstance(mixture, dict):  # the mixture the sampler drew: examples per (task and) language
        row["examples drawn"] = "; ".join(
            " ".join(f"{lang} {n:,}" for lang, n in counts.items())
            for counts in mixture.values()
            if isinstance(counts, dict)
        )
    return row


def _lookup(record: dict, path: tuple[str, ...]) -> object:
    value: object = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if _is_plain(value) else None


def _is_plain(value: object) -> bool:
    scalar = (str, int, float, bool, type(None))
    return isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value))


def _scalar(value: object, thousands: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and thousands:
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _number(value: float | None, signed: bool = False, digits: int = 2) -> str:
    if value is None:
        return MISSING
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
