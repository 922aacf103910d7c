"""Each trainable kind learns a trivially learnable tiny task beyond its majority reference in a few dozen steps."""

import copy
import random

import pytest
import torch

from xlt.kinds import get_kind
from xlt.methods import get_method
from xlt.tasks.spec import TaskSpec

pytestmark = pytest.mark.slow  # each kind trained until it learns

torch.set_num_threads(2)

WORDS = "dog door fox on mat near lazy the".split()  # few subwords each under the fixture tokenizer


def words(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(n)]


def classification(rng):
    label = rng.choice(["cat", "number"])
    text = words(rng, 2) + [label if label == "cat" else "345"] + words(rng, 2)
    return {"text": " ".join(text), "label": label}


def pair_classification(rng):
    keys = [rng.choice(["cat", "345"]) for _ in range(2)]  # the label needs both segments
    a, b = (" ".join(words(rng, 2) + [key]) for key in keys)
    return {"text_a": a, "text_b": b, "label": "same" if keys[0] == keys[1] else "different"}


def tagging(rng):
    tokens = words(rng, rng.randint(3, 6))
    return {"tokens": tokens, "tags": ["B"] + ["I"] * (len(tokens) - 1)}


def qa(rng):
    before, after = " ".join(words(rng, rng.randint(1, 5))), " ".join(words(rng, 2))
    context = f"{before} 345 {after}"
    answer = {"text": "345", "answer_start": len(before) + 1}
    return {"question": "which number ?", "context": context, "answers": [answer]}


def multiple_choice(rng):
    right = rng.randrange(2)
    choices = [" ".join(words(rng, 2) + (["cat"] if i == right else [])) for i in range(2)]
    return {"premise": " ".join(words(rng, 2)), "question": "effect", "choices": choices, "label": right}


TASKS = {
    "classification": (classification, ("cat", "number"), {"pooling": "mean"}),
    "pair_classification": (pair_classification, ("same", "different"), {"pooling": "pair"}),
    "tagging": (tagging, ("B", "I"), {}),
    "qa": (qa, (), {}),
    "multiple_choice": (multiple_choice, (), {"pooling": "mean"}),
}


def accuracy(kind, spec, predictions, examples) -> float:
    def score(prediction, gold):
        if isinstance(gold, list) and spec.kind == "tagging":
            return sum(p == g for p, g in zip(prediction, gold)) / len(gold)
        return float(prediction in gold) if isinstance(gold, list) else float(prediction == gold)

    return sum(score(p, kind.gold(e, spec)) for p, e in zip(predictions, examples)) / len(examples)


def predict(kind, spec, model_parts, examples, tokenizer):
    encoder, head = model_parts
    features = kind.featurize(examples, tokenizer, spec, max_length=48)
    with torch.no_grad():
        batches = [features[i : i + 32] for i in range(0, len(features), 32)]
        outputs = [row for batch in batches for row in head(encoder, kind.collate(batch))]
    return kind.decode(outputs, features, examples, spec)


@pytest.mark.parametrize("name", list(TASKS))
def test_kind_learns_a_tiny_task_beyond_majority(name, tiny_tokenizer, tiny_backbone):
    make, labels, head_options = TASKS[name]
    spec = TaskSpec(
        name=f"tiny_{name}",
        kind=name,
        metrics=("accuracy",),
        scorer="accuracy",
        languages={"toy": ("en",)},
        load=lambda split, lang, data_dir: [],
        labels=labels,
    )
    rng = random.Random(0)
    train, test = [make(rng) for _ in range(256)], [make(rng) for _ in range(64)]
    kind = get_kind(name)
    torch.manual_seed(0)
    method = get_method("finetune")
    encoder = method().adapt(copy.deepcopy(tiny_backbone), method.Options())
    head = kind.build_head(encoder, spec, kind.HeadOptions(dropout=0.0, **head_options))
    features = kind.featurize(train, tiny_tokenizer, spec, max_length=48)
    optimizer = torch.optim.AdamW([*encoder.parameters(), *head.parameters()], lr=3e-3)
    for step in range(40):
        batch = kind.collate(random.Random(step).sample(features, 16))
        loss = kind.loss(head(encoder, batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    encoder.eval(), head.eval()
    learned = accuracy(kind, spec, predict(kind, spec, (encoder, head), test, tiny_tokenizer), test)
    majority = accuracy(kind, spec, kind.majority(train, test, spec), test)
    assert learned > majority + 0.1, (learned, majority)
