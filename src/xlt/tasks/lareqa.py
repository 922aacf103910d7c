"""LAReQA (XTREME-R): retrieve the answer sentence of a question from a pool in all 11 XQuAD-R languages;
trained, as XTREME-R, as a dual encoder on SQuAD answer-sentence retrieval."""

from xlt.data import formats
from xlt.data.sources import Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register
from xlt.tasks.xquad import XTREME as LANGUAGES

SOURCE = TaskSource("lareqa", layouts=(Layout({"test": "lareqa/xquad-r/{lang}.json"}, formats.xquad_r),))

register(
    TaskSpec(
        name="lareqa",
        kind="ranking",
        metrics=("map@20",),
        scorer="lareqa",
        languages={"xtreme-r": LANGUAGES},
        load=SOURCE,
        train_task="squad-retrieval",
        description="XQuAD-R: 1,190 questions per language, 11 gold answers each; mAP@20 over all questions.",
        splits=("test",),
        averaging="examples",
        extra={"similarity": "dot"},  # the official evaluation ranks by raw inner products
    )
)
