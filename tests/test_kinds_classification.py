import copy
import logging

import pytest
import torch

from xlt.errors import XltError
from xlt.kinds import get_kind
from xlt.kinds.classification import SEGMENT_A, SEGMENT_B
from xlt.kinds.common import SentencePooler, masked_mean
from xlt.methods import get_method
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

SPEC = TaskSpec(
    name="toy_nli",
    kind="pair_classification",
    metrics=("accuracy",),
    scorer="accuracy",
    languages={"toy": ("en",)},
    load=lambda split, lang, data_dir: [],
    labels=("entailment", "neutral", "contradiction"),
)
PAIRS = [
    {"id": "0", "text_a": "the quick brown fox", "text_b": "a small cat sat on the mat", "label": "neutral"},
    {"id": "1", "text_a": "le petit chat dort", "text_b": "the lazy dog", "label": "contradiction"},
    {"id": "2", "text_a": "numbers like 12 and 345", "text_b": "12", "label": "entailment"},
]


@pytest.fixture()
def encoder(tiny_backbone):
    method = get_method("finetune")
    return method().adapt(copy.deepcopy(tiny_backbone), method.Options()).eval()


def test_pair_featurize_marks_each_segment(tiny_tokenizer):
    features = get_kind("pair_classification").featurize(PAIRS, tiny_tokenizer, SPEC, max_length=64)
    for feature, example in zip(features, PAIRS):
        ids, segments = feature["input_ids"], feature["segments"]
        first = [i for i, s in zip(ids, segments) if s == SEGMENT_A]
        second = [i for i, s in zip(ids, segments) if s == SEGMENT_B]
        assert first == tiny_tokenizer(example["text_a"], add_special_tokens=False)["input_ids"]
        assert second == tiny_tokenizer(example["text_b"], add_special_tokens=False)["input_ids"]
        assert ids == tiny_tokenizer(example["text_a"], example["text_b"])["input_ids"]
    assert [f["labels"] for f in features] == [1, 2, 0]


def test_pair_head_pools_each_segment(tiny_tokenizer, encoder):
    kind = get_kind("pair_classification")
    features = kind.featurize(PAIRS, tiny_tokenizer, SPEC, max_length=64)
    batch = kind.collate(features)
    head = kind.build_head(encoder, SPEC, kind.HeadOptions(pooling="pair")).eval()
    hidden = encoder(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    for row, feature in enumerate(features):
        segments = torch.tensor(feature["segments"])
        u = hidden[row, : len(segments)][segments == SEGMENT_A].mean(0)
        v = hidden[row, : len(segments)][segments == SEGMENT_B].mean(0)
        expected = head.classifier(torch.cat([u, v, u - v, u * v]))
        assert torch.allclose(head(encoder, batch)[row], expected, atol=1e-5)


@pytest.mark.parametrize("pooling", ["cls_pooler", "cls_dense", "mean", "pair"])
def test_every_pooling_ignores_padding(tiny_tokenizer, encoder, pooling):
    kind = get_kind("pair_classification")
    features = kind.featurize(PAIRS, tiny_tokenizer, SPEC, max_length=64)
    torch.manual_seed(0)
    head = kind.build_head(encoder, SPEC, kind.HeadOptions(pooling=pooling)).eval()
    padded = head(encoder, kind.collate(features))
    alone = torch.cat([head(encoder, kind.collate([feature])) for feature in features])
    assert torch.allclose(padded, alone, atol=1e-5)


def test_pooling_options_pool_differently(tiny_tokenizer, encoder):
    batch = get_kind("classification").collate(
        get_kind("classification").featurize([{"text": "the lazy dog", "label": "neutral"}], tiny_tokenizer, SPEC, 64)
    )
    hidden = encoder(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    pooled = {
        how: SentencePooler(encoder, how, 0.0)(encoder, hidden, batch["attention_mask"])
        for how in ("cls_pooler", "cls_dense", "mean")
    }
    assert torch.allclose(pooled["cls_pooler"], encoder.backbone.pooler(hidden))
    assert torch.allclose(pooled["mean"], masked_mean(hidden, batch["attention_mask"]))
    values = list(pooled.values())
    assert all(not torch.allclose(a, b) for i, a in enumerate(values) for b in values[i + 1 :])


def test_pair_pooling_needs_a_pair_task(encoder):
    kind = get_kind("classification")
    with pytest.raises(XltError, match="pair"):
        kind.build_head(encoder, SPEC, kind.HeadOptions(pooling="pair"))


def test_unknown_label_is_a_one_line_error(tiny_tokenizer):
    bad = [dict(PAIRS[0], label="maybe")]
    with pytest.raises(XltError, match="'maybe'"):
        get_kind("pair_classification").featurize(bad, tiny_tokenizer, SPEC, max_length=64)


def test_long_input_is_cut_with_a_warning(tiny_tokenizer, caplog):
    long = [{"id": "x", "text": "the quick brown fox " * 40, "label": "neutral"}, {"text": "a cat", "label": "neutral"}]
    with caplog.at_level(logging.WARNING):
        features = get_kind("classification").featurize(long, tiny_tokenizer, SPEC, max_length=32)
    assert len(features[0]["input_ids"]) == 32 and features[0]["input_ids"][-1] == tiny_tokenizer.sep_token_id
    assert "1 of 2 inputs exceed 32 tokens" in caplog.text


def test_decode_gives_labels_in_example_order(tiny_tokenizer):
    kind = get_kind("pair_classification")
    features = kind.featurize(PAIRS, tiny_tokenizer, SPEC, max_length=64)
    outputs = [torch.tensor([0.0, 1.0, 0.0]), torch.tensor([0.0, 0.0, 2.0]), torch.tensor([3.0, 0.0, 0.0])]
    assert kind.decode(outputs, features, PAIRS, SPEC) == ["neutral", "contradiction", "entailment"]
    assert [kind.gold(example, SPEC) for example in PAIRS] == ["neutral", "contradiction", "entailment"]


def test_majority_is_the_most_frequent_training_label():
    train = [{"label": "neutral"}, {"label": "entailment"}, {"label": "neutral"}]
    assert get_kind("pair_classification").majority(train, PAIRS, SPEC) == ["neutral"] * 3
