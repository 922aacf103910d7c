"""TyDiQA-GoldP (XTREME, XTREME-R): gold-passage QA in 9 languages; English train, GoldP dev as test.

3,696 English training questions; the GoldP dev set of each language is the test set.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = tuple("ar bn en fi id ko ru sw te".split())
# the release names languages in full, and its question ids start with that name
NAMES = dict(
    ar="arabic",
    bn="bengali",
    en="english",
    fi="finnish",
    id="indonesian",
    ko="korean",
    ru="russian",
    sw="swahili",
    te="telugu",
)

SOURCE = TaskSource(
    "tydiqa",
    layouts=(
        # XTREME's download splits the train file by language and renames the dev files
        Layout(
            {
                "train": "tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.{lang}.train.json",
                "test": "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.{lang}.dev.json",
            },
            formats.squad_json,
        ),
        Layout({"test": "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa-goldp-dev-{name}.json"}, formats.squad_json),
    ),
    hub=HubSource(
        "google/xtreme",
        "tydiqa",
        {"train": "train", "test": "validation"},
        hub_rows.squad_rows(id_prefix=lambda lang: NAMES[lang] + "-"),
    ),
    names=lambda lang: {"name": NAMES.get(lang, lang)},
)

register(
    TaskSpec(
        name="tydiqa",
        kind="qa",
        languages={"xtreme": LANGUAGES, "xtreme-r": LANGUAGES},
        load=SOURCE,
        hub="google/xtreme (tydiqa, filtered by language)",
        splits=("train", "test"),
    )
)
