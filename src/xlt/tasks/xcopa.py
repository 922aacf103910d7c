"""XCOPA (XTREME-R): causal commonsense reasoning in 11 languages; trained SIQA -> COPA (English).

COPA translated into 11 languages: 100 dev and 500 test premises, two alternatives each.
"""

from xlt.data import formats, hub_rows
from xlt.data.sources import HubSource, Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register

LANGUAGES = tuple("et ht id it qu sw ta th tr vi zh".split())
RELEASE_SPLITS = {"dev": "val", "test": "test"}

SOURCE = TaskSource(
    "xcopa",
    layouts=(
        # the release keeps one folder per language; XTREME's download puts every file in xcopa/
        Layout({s: f"xcopa/{{lang}}/{f}.{{lang}}.jsonl" for s, f in RELEASE_SPLITS.items()}, formats.copa_jsonl),
        Layout({s: f"xcopa/{f}.{{lang}}.jsonl" for s, f in RELEASE_SPLITS.items()}, formats.copa_jsonl),
    ),
    hub=HubSource("cambridgeltl/xcopa", "{lang}", {"dev": "validation", "test": "test"}, hub_rows.copa_rows),
)

register(
    TaskSpec(
        name="xcopa",
        kind="multiple_choice",
        languages={"xtreme-r": LANGUAGES},
        load=SOURCE,
        train_task="copa",
        chain=("siqa", "copa"),
        submission="jsonl",  # XTREME-R reads XCOPA labels from JSON lines
        hub="cambridgeltl/xcopa ({lang})",
        splits=("dev", "test"),
    )
)
