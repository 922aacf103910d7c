"""SQuAD v1.1 as answer-sentence retrieval: what XTREME-R trains LAReQA's dual encoder on.

Each question is paired with the sentence holding its answer, encoded with the paragraph as context
(as LAReQA's candidates). The answer's sentence is the one its first character falls in, as in
XTREME-R; a question whose answer starts between sentences is left out. Same sources as `squad`
(local files or the Hub).
"""

from xlt.data.sentences import sentence_spans
from xlt.tasks.spec import TaskSpec, register
from xlt.tasks.squad import SOURCE


def load(split: str, lang: str, data_dir) -> list[dict]:
    pairs: list[dict] = []
    paragraphs: dict[str, tuple[int, list[tuple[int, int]]]] = {}  # context -> (number, sentence spans), split once
    for example in SOURCE(split, lang, data_dir):
        context = example["context"]
        if context not in paragraphs:
            paragraphs[context] = (len(paragraphs), sentence_spans(context))
        number, spans = paragraphs[context]
        start = example["answers"][0]["answer_start"]
        position = next((i for i, (a, b) in enumerate(spans) if a <= start < b), None)
        if position is None:
            continue
        a, b = spans[position]
        pairs.append(
            {
                "id": example["id"],
                "query": example["question"],
                "candidate": context[a:b],
                "candidate_id": f"{split}_{number}_{position}",
                "candidate_context": context,
            }
        )
    return pairs


register(
    TaskSpec(
        name="squad-retrieval",
        kind="ranking",
        languages={"english": ("en",)},
        load=load,
        source=SOURCE,
        hub="rajpurkar/squad (as retrieval)",
        splits=("train", "dev"),
    )
)
