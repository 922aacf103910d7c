"""BUCC 2018 (XTREME): mine the translation pairs hidden in two comparable corpora (xx-en).

Parallel-sentence mining; the decision threshold comes from the dev (sample) gold. XTREME mines with the
untuned encoder (training steps: 0).
"""

from xlt.data import formats
from xlt.data.sources import Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = ("de", "fr", "ru", "zh")

# XTREME's download renames BUCC's "sample" to dev and "training" to test (and drops the test gold)
SOURCE = TaskSource(
    "bucc2018",
    layouts=(Layout({s: f"bucc2018/{{lang}}-en.{s}.{{lang}}" for s in ("dev", "test")}, formats.bucc_sentences),),
)



def load(split: str, lang: str, data_dir) -> list[dict]:
    """The split's sentences; test also carries dev's, marked as calibration: XTREME withholds test gold,
    so the mining threshold comes from dev (google-research/xtreme#60)."""
    examples = SOURCE(split, lang, data_dir)
    if split == "test":
        examples += [{**example, "calibration": True} for example in SOURCE("dev", lang, data_dir)]
    return examples


register(
    TaskSpec(
        name="bucc2018",
        kind="mining",
        languages={"xtreme": LANGUAGES},
        load=load,
        source=SOURCE,
        train_task="squad",
        splits=("dev", "test"),
    )
)
