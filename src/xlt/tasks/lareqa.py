"""LAReQA (XTREME-R): retrieve the answer sentence of a question from a pool in all 11 XQuAD-R languages;
trained, as XTREME-R, as a dual encoder on SQuAD answer-sentence retrieval.

XQuAD-R: 1,190 questions per language, 11 gold answers each; mAP@20 over all questions.
"""

from xlt.data import formats
from xlt.data.sources import Layout, TaskSource
from xlt.tasks.spec import TaskSpec, register
from xlt.tasks.xquad import XTREME as LANGUAGES

SOURCE = TaskSource("lareqa", layouts=(Layout({"test": "lareqa/xquad-r/{lang}.json"}, formats.xquad_r),))

register(
    TaskSpec(
        name="lareqa",
        kind="ranking",
        languages={"xtreme-r": LANGUAGES},
        load=SOURCE,
        train_task="squad-retrieval",
        splits=("test",),
        averaging="examples",
        settings={"similarity": "dot"},  # the official evaluation ranks by raw inner products
    )
)
