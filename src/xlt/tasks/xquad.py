"""XQuAD (XTREME, XTREME-R): SQuAD v1.1 dev paragraphs professionally translated; trained on SQuAD.

240 paragraphs / 1,190 questions per language, parallel; scored with the SQuAD v1.1 script.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

XTREME = tuple("ar de el en es hi ru th tr vi zh".split())
XTREME_R = tuple(sorted(XTREME + ("ro",)))

SOURCE = TaskSource(
    "xquad",
    layouts=(Layout({"test": "xquad/xquad.{lang}.json"}, formats.squad_json),),
    hub=HubSource("google/xquad", "xquad.{lang}", {"test": "validation"}, hub_rows.squad_rows()),
)

register(
    TaskSpec(
        name="xquad",
        kind="qa",
        languages={"xtreme": XTREME, "xtreme-r": XTREME_R},
        load=SOURCE,
        train_task="squad",
        hub="google/xquad (xquad.{lang})",
        splits=("test",),
    )
)
