"""UD-POS (XTREME, XTREME-R): universal part-of-speech tagging, UD v2.5 (XTREME) / v2.7 (XTREME-R).

17 UPOS tags on gold words; f1 = seqeval 0.0.12 semantics as XTREME published, plus accuracy.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

XTREME = tuple(
    "af ar bg de el en es et eu fa fi fr he hi hu id it ja kk ko mr nl pt ru ta te th tl tr ur vi yo zh".split()
)
XTREME_R = tuple(sorted(XTREME + ("lt", "pl", "uk", "wo", "ro")))
LABELS = tuple("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split())
# google/xtreme names its UD-POS configs by language name; the five XTREME-R additions are not on the Hub.
HUB_NAMES = dict(
    af="Afrikaans",
    ar="Arabic",
    bg="Bulgarian",
    de="German",
    el="Greek",
    en="English",
    es="Spanish",
    et="Estonian",
    eu="Basque",
    fa="Persian",
    fi="Finnish",
    fr="French",
    he="Hebrew",
    hi="Hindi",
    hu="Hungarian",
    id="Indonesian",
    it="Italian",
    ja="Japanese",
    kk="Kazakh",
    ko="Korean",
    mr="Marathi",
    nl="Dutch",
    pt="Portuguese",
    ru="Russian",
    ta="Tamil",
    te="Telugu",
    th="Thai",
    tl="Tagalog",
    tr="Turkish",
    ur="Urdu",
    vi="Vietnamese",
    yo="Yoruba",
    zh="Chinese",
    lt="Lithuanian",
    pl="Polish",
    uk="Ukrainian",
    wo="Wolof",
    ro="Romanian",
)

SOURCE = TaskSource(
    "udpos",
    layouts=(Layout({s: f"udpos/{s}-{{lang}}.tsv" for s in ("train", "dev", "test")}, formats.conll_tags),),
    hub=HubSource(
        "google/xtreme",
        "udpos.{language}",
        {"train": "train", "dev": "validation", "test": "test"},
        hub_rows.tag_rows("pos_tags"),
    ),
    names=lambda lang: {"language": HUB_NAMES.get(lang, lang)},
)

register(
    TaskSpec(
        name="udpos",
        kind="tagging",
        languages={"xtreme": XTREME, "xtreme-r": XTREME_R},
        load=SOURCE,
        labels=LABELS,
        hub="google/xtreme (udpos.{Language})",
    )
)
