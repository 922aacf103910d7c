"""PAN-X / WikiANN NER (XTREME, XTREME-R): PER/ORG/LOC in IOB2 on Wikipedia sentences.

Named entities (PER, ORG, LOC), seqeval entity F1; XTREME's PAN-X needs a manual download.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

XTREME = tuple(
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru sw ta te th tl tr ur vi"
    " yo zh".split()
)
XTREME_R = tuple(sorted(XTREME + ("qu", "pl", "uk", "az", "lt", "pa", "gu", "ro")))
LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

SOURCE = TaskSource(
    "panx",
    layouts=(Layout({s: f"panx/{s}-{{lang}}.tsv" for s in ("train", "dev", "test")}, formats.conll_tags),),
    # WikiANN with the Rahimi et al. (2019) splits XTREME uses; it covers all 48 XTREME-R languages
    hub=HubSource(
        "unimelb-nlp/wikiann",
        "{lang}",
        {"train": "train", "dev": "validation", "test": "test"},
        hub_rows.tag_rows("ner_tags"),
    ),
)

register(
    TaskSpec(
        name="panx",
        kind="tagging",
        languages={"xtreme": XTREME, "xtreme-r": XTREME_R},
        load=SOURCE,
        labels=LABELS,
        hub="unimelb-nlp/wikiann ({lang})",
    )
)
