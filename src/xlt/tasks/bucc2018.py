"""BUCC 2018 (XTREME): mine the translation pairs hidden in two comparable corpora (xx-en)."""

from xlt.data import formats
from xlt.data.sources import Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = ("de", "fr", "ru", "zh")

# XTREME's download renames BUCC's "sample" to dev and "training" to test (and drops the test gold)
SOURCE = TaskSource(
    "bucc2018",
    layouts=(Layout({s: f"bucc2018/{{lang}}-en.{s}.{{lang}}" for s in ("dev", "test")}, formats.bucc_sentences),),
)

register(
    TaskSpec(
        name="bucc2018",
        kind="retrieval",
        metrics=("f1", "precision", "recall"),
        scorer="bucc",
        languages={"xtreme": LANGUAGES},
        load=SOURCE,
        description="Parallel-sentence mining; the decision threshold comes from the dev (sample) gold.",
        splits=("dev", "test"),
    )
)
