"""The report's "Representations" section, from the files `xlt analyze` writes under analysis/:
similarity.csv (every measure per encoder, layer and language) and summary.json (the source, the
settings, and the reading: least-moved recipe, rank correlation with transfer). Files only; no torch.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from xlt.analysis.plots import layer_plot_png
from xlt.errors import XltError
from xlt.report.figures.plots import heatmap_png
from xlt.report.render import Block, Figure, Heading, Paragraph, Table, write_document
from xlt.report.study import read_optional_json

ANALYSIS = "analysis"
AVERAGE = "mean"
MAX_PANELS = 8  # layer plots: more languages than this are shown as their average only
MAX_COLUMNS = 40  # heat maps: likewise (every language stays in similarity.csv)
NAMES = {
    "cos": "raw cosine",
    "cos_centred": "centred cosine",
    "cka": "linear CKA (unbiased)",
    "p1_raw_base2lang": "P@1 raw, base->lang",
    "p1_centred_base2lang": "P@1 centred, base->lang",
}
BASELINES = {"cos": "cos_random", "cos_centred": "cos_centred_random", "cka": "cka_shuffled"}
HEATMAPS = ("cos_centred", "cka")

Key = tuple[str, str, str, str, str]  # (stage, role, recipe, task, seed)
Values = dict[tuple[int, str, str], tuple[float, float, float]]  # (layer, language, measure) -> value, low, high


def representation_blocks(study_dir: Path) -> list[Block]:
    """The section, or [] when the study has not been analysed."""
    directory = Path(study_dir) / ANALYSIS
    if not (directory / "similarity.csv").is_file():
        return []
    summary = read_optional_json(directory / "summary.json")
    if summary is None:
        raise XltError(f"{directory}: similarity.csv without summary.json; rerun `xlt analyze`")
    table = _read(directory / "similarity.csv")
    last = max(layer for values in table.values() for layer, _, _ in values)
    labels = _labels(table)
    languages = summary["source"]["languages"]
    blocks: list[Block] = [
        Heading("Representations"),
        Paragraph(_method_text(summary)),
        _last_layer_table(table, labels, last),
    ]
    blocks += _reading_blocks(summary.get("reading"))
    blocks += [_heatmap(table, labels, measure, languages, last) for measure in HEATMAPS]
    panels = (languages if len(languages) <= MAX_PANELS else []) + [AVERAGE]
    blocks += [_layer_figure(table, labels, measure, panels, summary) for measure in NAMES]
    return blocks


def _read(path: Path) -> dict[Key, Values]:
    table: dict[Key, Values] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["stage"], row["role"], row["recipe"], row["task"], row["seed"])
            table.setdefault(key, {})[int(row["layer"]), row["language"], row["measure"]] = (
                _float(row["value"]),
                _float(row["low"]),
                _float(row["high"]),
            )
    return table


def _float(text: str) -> float:
    return float(text) if text else float("nan")


def _labels(table: dict[Key, Values]) -> dict[Key, str]:
    seeds = {key[4] for key in table if key[4]}

    def label(key: Key) -> str:
        _, role, recipe, task, seed = key
        text = {"target": f"{recipe} -> {task}", "intermediate": f"{recipe}: {task} stage"}.get(role, recipe)
        return text + (f" (seed {seed})" if len(seeds) > 1 and seed else "")

    return {key: label(key) for key in table}


def _method_text(summary: dict) -> str:
    source, resampling = summary["source"], summary["resampling"]
    sizes = sorted(set(source["sentences"].values()))
    count = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
    skipped = summary.get("skipped")
    return (
        f"Sentence representations of {count} parallel sentences per language ({source['name']}; base language "
        f"{source['base']}, {len(source['languages'])} other languages), {summary['pooling']}-pooled at layers "
        f"{', '.join(map(str, summary['layers']))} (0 = embeddings), for the pretrained encoder and every trained "
        "stage (through its prompts or LoRA tensors; heads not used). Each measure is shown beside its value on "
        "random pairs: non-translations of the same length, since length alone makes sentence vectors alike in "
        "every language. Raw cosine is high for any pair (anisotropy); centred cosine first subtracts each "
        "language's mean vector; P@1 retrieves each sentence's translation by cosine. Linear CKA (unbiased "
        "estimator) compares the two languages' similarity structures, which even a random encoder shares for "
        "translations (same content, same structure), so read it against the random-init row, not against 0. "
        "Delta = a stage's value minus that of the encoder it started from. Intervals: "
        f"{resampling['level']:.0%} percentile intervals over {resampling['replicates']} half-samples of the "
        "sentences (without replacement, the same for every encoder, so deltas are paired)."
        + (f" Not analysed (training incomplete): {'; '.join(skipped)}." if skipped else "")
    )


def _cell(values: Values, key: tuple[int, str, str], signed: bool = False, interval: bool = True) -> str:
    value, low, high = values.get(key, (np.nan,) * 3)
    if not np.isfinite(value):
        return "-"
    fmt = "+.3f" if signed else ".3f"
    bounds = f" [{low:{fmt}}, {high:{fmt}}]" if interval and np.isfinite(low) else ""
    return f"{value:{fmt}}{bounds}"


def _last_layer_table(table: dict[Key, Values], labels: dict[Key, str], last: int) -> Table:
    columns: dict[str, str | tuple[str, str]] = {
        "cos (random pairs)": ("cos", "cos_random"),
        "cos - random": "cos_gap",
        "centred cos (random)": ("cos_centred", "cos_centred_random"),
        "centred cos - random": "cos_centred_gap",
        "CKA (shuffled)": ("cka", "cka_shuffled"),
        "CKA - shuffled": "cka_gap",
        "P@1 centred b->l": "p1_centred_base2lang",
        "P@1 centred l->b": "p1_centred_lang2base",
        "delta centred cos": "cos_centred_drift",
        "delta CKA": "cka_drift",
    }
    rows = []
    for key, values in table.items():
        row = [labels[key]]
        for column in columns.values():
            if isinstance(column, tuple):  # a value and its random-pair baseline, without intervals
                measure, baseline = column
                row.append(
                    f"{_cell(values, (last, AVERAGE, measure), interval=False)} "
                    f"({_cell(values, (last, AVERAGE, baseline), interval=False)})"
                )
            else:
                signed = column.endswith(("_gap", "_drift"))
                row.append(_cell(values, (last, AVERAGE, column), signed))
        rows.append(row)
    return Table(
        ["encoder", *columns],
        rows,
        f"layer {last}, mean over languages; [low, high] as above; random pairs: non-translations of the "
        "same length; delta: against the pretrained encoder (the random-init reference: against its "
        "untrained self)",
    )


def _reading_blocks(reading: dict | None) -> list[Block]:
    if not reading or not reading["least_moved"]:  # a bare encoder: no recipes to compare
        return []
    blocks: list[Block] = [Heading("Which recipe moved representations least", 3)]
    for item in reading["least_moved"]:
        ordered = "; ".join(
            f"{r['recipe']} {r['drift']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]" for r in item["recipes"]
        )
        blocks.append(
            Paragraph(
                f"{item['task']}, {NAMES[item['measure']]} at layer {reading['layer']}, drift "
                f"from the pretrained encoder (mean over languages), smallest change first: "
                f"{ordered}."
            )
        )
    blocks.append(Heading("Does it follow transfer?", 3))
    transfer = reading["transfer"]
    if not transfer:
        blocks.append(
            Paragraph(
                "No rank correlation: it needs at least 3 recipes of a target task from the "
                "pretrained encoder, with zero-shot scores in at least 2 languages."
            )
        )
        return blocks
    rows = [
        [
            t["task"],
            NAMES[t["measure"]],
            f"{t['rho']:+.2f} [{t['low']:+.2f}, {t['high']:+.2f}]",
            str(t["recipes"]),
            str(len(t["languages"])),
            " > ".join(t["order_by_similarity"]),
            " > ".join(t["order_by_transfer"]),
        ]
        for t in transfer
    ]
    level = transfer[0]["level"]
    blocks += [
        Table(
            [
                "task",
                "measure",
                "rank correlation",
                "recipes",
                "languages",
                "order by similarity",
                "order by zero-shot score",
            ],
            rows,
            f"Spearman's rank correlation over recipes between layer-{reading['layer']} similarity and zero-shot "
            f"score, within each language, averaged over languages; [low, high]: {level:.1%} percentile interval "
            f"from resampling languages (Bonferroni over the {len(transfer)} correlations shown)",
        ),
        Paragraph(
            "A diagnostic, not a cause: a positive correlation says that recipes which keep a language's "
            "sentences closer to their base-language translations are also the ones that transfer better to "
            "it in this study, not that the closeness produces the transfer; few recipes and languages make "
            "the interval wide."
        ),
    ]
    return blocks


def _heatmap(table: dict[Key, Values], labels: dict[Key, str], measure: str, languages: list[str], last: int) -> Figure:
    columns = [*(languages if len(languages) <= MAX_COLUMNS else []), AVERAGE]
    values = np.array(
        [[values.get((last, lang, measure), (np.nan,))[0] for lang in columns] for values in table.values()]
    )
    text = [["" if np.isnan(v) else f"{v:.2f}" for v in row] for row in values]
    png = heatmap_png(values, text, [labels[key] for key in table], columns, f"{NAMES[measure]}, layer {last}")
    return Figure(f"{ANALYSIS}/heatmap_{measure}.png", png, f"{NAMES[measure]} at layer {last}, encoder x language")


def _layer_figure(
    table: dict[Key, Values], labels: dict[Key, str], measure: str, panels: list[str], summary: dict
) -> Figure:
    plotted = [key for key in table if key[1] in ("base", "target")]
    series = _series(table, labels, plotted, measure, panels)
    if measure in BASELINES:
        baseline = _series(table, labels, plotted, BASELINES[measure], panels)
    else:  # retrieval: chance is one sentence in n
        baseline = 1.0 / min(summary["source"]["sentences"].values())
    png = layer_plot_png(series, baseline, panels, NAMES[measure], measure)
    return Figure(f"{ANALYSIS}/layers_{measure}.png", png, f"{NAMES[measure]} by layer")


def _series(table, labels, keys, measure, panels) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """label -> panel -> [(layer, value)], seeds of one label averaged."""
    collected: dict[str, dict[str, dict[int, list[float]]]] = {}
    for key in keys:
        label = labels[key].split(" (seed ")[0]
        for (layer, lang, name), (value, _, _) in table[key].items():
            if name == measure and lang in panels:
                collected.setdefault(label, {}).setdefault(lang, {}).setdefault(layer, []).append(value)
    return {
        label: {
            lang: [(layer, float(np.mean(v))) for layer, v in by_layer.items()] for lang, by_layer in by_lang.items()
        }
        for label, by_lang in collected.items()
    }


def write_standalone(root: Path) -> dict[str, Path]:
    """report.md / report.html holding only this section, for an encoder analysed outside a study."""
    title = f"xlt representations: {Path(root).resolve().name}"
    return write_document(Path(root), title, [Heading(title, 1), *representation_blocks(root)])
