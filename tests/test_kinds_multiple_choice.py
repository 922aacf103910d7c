import copy

import pytest
import torch

from xlt.errors import XltError
from xlt.kinds import get_kind
from xlt.methods import get_method
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

MC = get_kind("multiple_choice")
SPEC = TaskSpec(
    name="toy_copa",
    kind="multiple_choice",
    metrics=("accuracy",),
    scorer="accuracy",
    languages={"toy": ("en",)},
    load=lambda split, lang, data_dir: [],
)
COPA = {"id": "0", "premise": "the dog ran .", "question": "cause", "choices": ["a cat sat", "the fox"], "label": 1}
SIQA = {"id": "1", "premise": "anna sat .", "question": "what next ?", "choices": ["the dog", "a cat"], "label": 0}


def test_each_choice_follows_premise_and_connective(tiny_tokenizer):
    features = MC.featurize([COPA, SIQA], tiny_tokenizer, SPEC, max_length=64)
    assert features[0]["input_ids"][1] == tiny_tokenizer("the dog ran .", "because the fox")["input_ids"]
    assert features[1]["input_ids"][0] == tiny_tokenizer("anna sat .", "what next ? the dog")["input_ids"]
    batch = MC.collate(features)
    assert batch["input_ids"].shape[:2] == (2, 2) and batch["labels"].tolist() == [1, 0]


def test_head_scores_every_choice_and_ignores_padding(tiny_tokenizer, tiny_backbone):
    method = get_method("finetune")
    encoder = method().adapt(copy.deepcopy(tiny_backbone), method.Options()).eval()
    features = MC.featurize([COPA, SIQA], tiny_tokenizer, SPEC, max_length=64)
    for pooling in ("cls_pooler", "cls_dense", "mean"):
        head = MC.build_head(encoder, SPEC, MC.HeadOptions(pooling=pooling)).eval()
        scores = head(encoder, MC.collate(features))
        alone = torch.cat([head(encoder, MC.collate([feature])) for feature in features])
        assert scores.shape == (2, 2) and torch.allclose(scores, alone, atol=1e-5)
        assert MC.loss(scores, MC.collate(features)).isfinite()


def test_decode_majority_and_gold():
    features = [{"example_index": 0}, {"example_index": 1}]
    assert MC.decode([torch.tensor([0.0, 1.0]), torch.tensor([2.0, 1.0])], features, [COPA, SIQA], SPEC) == [1, 0]
    assert MC.majority([COPA, COPA, SIQA], [SIQA], SPEC) == [1]
    assert MC.gold(COPA, SPEC) == 1


def test_mixed_choice_counts_are_an_error(tiny_tokenizer):
    three = dict(SIQA, choices=["a", "b", "c"])
    with pytest.raises(XltError, match="choices"):
        MC.featurize([COPA, three], tiny_tokenizer, SPEC, max_length=64)
