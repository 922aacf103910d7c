"""Tatoeba (XTREME, XTREME-R): for each English sentence, find its translation among up to 1,000 candidates.

Up to 1,000 sentence pairs per language; XTREME embeds with the untuned encoder, XTREME-R with a
SQuAD-tuned one.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.metrics.retrieval import sorted_english_order
from xlt.tasks.spec import TaskSpec, register

XTREME = tuple(
    "af ar bg bn de el es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr nl pt ru sw ta te th tl tr ur vi"
    " zh".split()
)
XTREME_R = tuple(sorted(XTREME + ("az", "lt", "pl", "uk", "ro")))
# LASER's release names files by ISO 639-3 code (macrolanguage members for fa, sw, zh), as XTREME maps them
ISO3 = dict(
    af="afr", ar="ara", bg="bul", bn="ben", de="deu", el="ell", es="spa", et="est", eu="eus", fa="pes", fi="fin",
    fr="fra", he="heb", hi="hin", hu="hun", id="ind", it="ita", ja="jpn", jv="jav", ka="kat", kk="kaz", ko="kor",
    ml="mal", mr="mar", nl="nld", pt="por", ru="rus", sw="swh", ta="tam", te="tel", th="tha", tl="tgl", tr="tur",
    ur="urd", vi="vie", zh="cmn", az="aze", lt="lit", pl="pol", uk="ukr", ro="ron",
)

SOURCE = TaskSource(
    "tatoeba",
    # XTREME's own copy sorts the English side and drops the alignment, so only LASER's files carry gold
    layouts=(
        Layout({"test": "tatoeba/tatoeba.{lang3}-eng.{lang3}"}, formats.tatoeba_pairs),
        Layout({"test": "tatoeba/v1/tatoeba.{lang3}-eng.{lang3}"}, formats.tatoeba_pairs),
    ),
    hub=HubSource(  # English (sentence2) queries
        "mteb/tatoeba-bitext-mining", "{lang3}-eng", {"test": "test"}, hub_rows.bitext_rows("sentence2", "sentence1")
    ),
    names=lambda lang: {"lang3": ISO3.get(lang, lang)},
)


def load(split: str, lang: str, data_dir) -> list[dict]:
    """XTREME's order: English queries sorted; each id keeps the candidate's release index (its gold)."""
    examples = SOURCE(split, lang, data_dir)
    return [examples[i] for i in sorted_english_order([example["query"] for example in examples])]


register(
    TaskSpec(
        name="tatoeba",
        kind="retrieval",
        languages={"xtreme": XTREME, "xtreme-r": XTREME_R},
        load=load,
        source=SOURCE,
        train_task="squad",
        hub="mteb/tatoeba-bitext-mining ({lang3}-eng)",
        splits=("test",),
    )
)
