"""Every kind's head runs forward, loss and decode under every method, at the longest input the encoder takes."""

import copy

import pytest
import torch

from xlt.errors import XltError
from xlt.kinds import KINDS, get_kind
from xlt.methods import METHODS
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

LONG = "the quick brown fox jumps over the lazy dog . " * 12  # several hundred subwords
SHORT = "a small cat sat ."
EXAMPLES = {
    "classification": [{"text": LONG, "label": "b"}, {"text": SHORT, "label": "a"}],
    "pair_classification": [
        {"text_a": LONG, "text_b": LONG, "label": "a"},
        {"text_a": SHORT, "text_b": SHORT, "label": "b"},
    ],
    "tagging": [{"tokens": LONG.split(), "tags": ["a", "b"] * 60}, {"tokens": SHORT.split(), "tags": ["b"] * 5}],
    "qa": [
        {"question": "what ?", "context": LONG + "345 .", "answers": [{"text": "345", "answer_start": len(LONG)}]},
        {"question": "what ?", "context": SHORT, "answers": [{"text": "cat", "answer_start": 8}]},
    ],
    "multiple_choice": [
        {"premise": LONG, "question": "cause", "choices": [LONG, SHORT], "label": 1},
        {"premise": SHORT, "question": "effect", "choices": [SHORT, SHORT], "label": 0},
    ],
    "retrieval": [{"id": "t-0", "query": LONG, "candidate": SHORT}, {"id": "t-1", "query": SHORT, "candidate": LONG}],
    "ranking": [  # training pairs
        {"id": "r-0", "query": LONG, "candidate": SHORT, "candidate_id": "c0"},
        {"id": "r-1", "query": SHORT, "candidate": LONG, "candidate_id": "c1"},
    ],
    "mining": [  # gold pairs
        {"id": "s-0", "query": LONG, "candidate": SHORT, "candidate_id": "t-0"},
        {"id": "s-1", "query": SHORT, "candidate": LONG, "candidate_id": "t-1"},
    ],
}
UNTRAINED = ("mining",)  # embeddings only: a study trains its encoder on another task
HEADS = [(name, {}) for name in KINDS] + [("pair_classification", {"pooling": "pair"})]


def test_every_kind_has_matrix_examples():
    assert set(EXAMPLES) == set(KINDS)


@pytest.mark.parametrize("method_name", list(METHODS))
@pytest.mark.parametrize("kind_name, head_options", HEADS, ids=[f"{k}-{o.get('pooling', 'default')}" for k, o in HEADS])
def test_head_runs_under_method_at_max_length(kind_name, head_options, method_name, tiny_tokenizer, tiny_backbone):
    kind, method, examples = get_kind(kind_name), METHODS.get(method_name), EXAMPLES[kind_name]
    spec = TaskSpec(
        name=f"matrix_{kind_name}",
        kind=kind_name,
        metrics=("m",),
        scorer="m",
        languages={"toy": ("en",)},
        load=lambda split, lang, data_dir: [],
        labels=("a", "b"),
    )
    torch.manual_seed(0)
    encoder = method().adapt(copy.deepcopy(tiny_backbone), method.Options())
    head = kind.build_head(encoder, spec, kind.HeadOptions(**head_options))
    features = kind.featurize(examples, tiny_tokenizer, spec, max_length=encoder.max_input_length)
    batch = kind.collate(features)
    longest = batch["input_ids"].shape[-1]  # tagging windows end between words, a few subwords short at most
    assert encoder.max_input_length - 8 < longest <= encoder.max_input_length
    outputs = head(encoder, batch)
    if kind_name in UNTRAINED:
        with pytest.raises(XltError):
            kind.loss(outputs, batch)
    else:
        kind.loss(outputs, batch).backward()
        trained = [p for p in [*encoder.parameters(), *head.parameters()] if p.requires_grad]
        assert trained and all(p.grad is not None for p in head.parameters() if p.requires_grad)
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters() if p.requires_grad)
    predictions = kind.decode(list(outputs.detach().unbind(0)), features, examples, spec)
    scored = kind.scored(examples)
    assert len(predictions) == len(scored) or kind_name == "mining"  # mining predicts a set of pairs
    assert all(type(p) is type(kind.gold(e, spec)) or kind_name == "qa" for p, e in zip(predictions, scored))


@pytest.mark.parametrize("kind_name", list(KINDS))
def test_features_survive_the_arrow_feature_cache(kind_name, tiny_tokenizer):
    from datasets import Dataset

    kind, examples = get_kind(kind_name), EXAMPLES[kind_name]
    spec = TaskSpec(
        name=f"matrix_{kind_name}",
        kind=kind_name,
        metrics=("m",),
        scorer="m",
        languages={"toy": ("en",)},
        load=lambda split, lang, data_dir: [],
        labels=("a", "b"),
    )
    features = kind.featurize(examples, tiny_tokenizer, spec, max_length=64)
    reloaded = Dataset.from_list(features).to_list()  # what xlt.data.features caches and reads back
    batch, again = kind.collate(features), kind.collate(reloaded)
    assert batch.keys() == again.keys() and all(torch.equal(batch[k], again[k]) for k in batch)
    widths = {
        "tagging": batch["input_ids"].shape[1:] + (2,),
        "qa": batch["input_ids"].shape[1:] + (2,),
        "multiple_choice": batch["input_ids"].shape[1:2],
        "ranking": (2, 2),
        "retrieval": (2, 2),
    }
    width = widths.get(kind_name, (2,))  # one feature's output
    torch.manual_seed(0)
    outputs = [torch.randn(width) for _ in features]
    assert kind.decode(outputs, reloaded, examples, spec) == kind.decode(outputs, features, examples, spec)
