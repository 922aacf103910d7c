"""Token types of sentence pairs on BERT (type_vocab_size 2): the tokenizer's own pair encoding, carried through the
kinds' features and the feature cache into the encoder, where every method embeds them as BertModel does."""

from __future__ import annotations

import copy

import pytest
import torch

from conftest import TINY_TEXT
from encoder_families import build
from xlt.data.features import cached_features
from xlt.kinds import get_kind
from xlt.kinds.common import TOKEN_TYPES, last_hidden
from xlt.methods import get_method
from xlt.model import TaskModel
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

A, B, C = TINY_TEXT[0], TINY_TEXT[1], TINY_TEXT[4]
QA_CONTEXT = " ".join(TINY_TEXT[:3])
# examples of every kind that encodes two segments, and the (first, second) segments of each sequence they give
PAIRS = {
    "pair_classification": ([{"id": "0", "text_a": A, "text_b": B, "label": "yes"}], [(A, B)]),
    "qa": (
        [{"id": "0", "question": C, "context": QA_CONTEXT, "answers": [{"text": "fox", "answer_start": 16}]}],
        [(C, QA_CONTEXT)],
    ),
    "multiple_choice": (
        [{"id": "0", "premise": A, "question": "effect", "choices": [B, C], "label": 0}],
        [(A, f"so {B}"), (A, f"so {C}")],  # one feature: a pair per choice
    ),
    "ranking": (
        [{"id": "q", "query": C}, {"id": "p", "candidate": A, "candidate_id": "p", "candidate_context": B}],
        [(C, None), (A, B)],
    ),
}


def spec(kind: str) -> TaskSpec:
    return TaskSpec(
        name=f"toy_{kind}",
        kind=kind,
        metrics=("accuracy",),
        scorer="accuracy",
        languages={"toy": ("en",)},
        load=lambda split, lang, data_dir: [],
        labels=("yes", "no"),
    )


@pytest.fixture(scope="module")
def bert():
    """(WordPiece tokenizer with BERT's template, tiny random BertModel with two token types)."""
    tokenizer, backbone = build("bert", TINY_TEXT * 20)
    assert backbone.config.type_vocab_size == 2
    return tokenizer, backbone


def features(kind: str, tokenizer, tmp_path, token_types: bool = True) -> list[dict]:
    """The features the pipeline gives an encoder that embeds token types (through the feature cache)."""
    examples = PAIRS[kind][0]
    return cached_features(get_kind(kind), spec(kind), examples, tokenizer, 128, tmp_path, {}, token_types)


def sequences(feature: dict, key: str) -> list[list[int]]:
    """The feature's rows of `key`: one, or one per choice."""
    return feature[key] if isinstance(feature[key][0], list) else [feature[key]]


def test_berts_template_types_exactly_the_second_segment_and_its_sep(bert):
    """What the tests below compare with: the tokenizer's own pair encoding, [CLS] A [SEP] as 0, B [SEP] as 1."""
    tokenizer, _ = bert
    a, b = (len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in (A, B))
    assert tokenizer(A, B, return_token_type_ids=True)["token_type_ids"] == [0] * (a + 2) + [1] * (b + 1)


@pytest.mark.parametrize("kind", PAIRS)
def test_pair_features_carry_the_tokenizers_own_token_types(bert, tmp_path, kind):
    tokenizer, _ = bert
    found = features(kind, tokenizer, tmp_path)
    types = [row for feature in found for row in sequences(feature, TOKEN_TYPES)]
    assert len(types) == len(PAIRS[kind][1])
    for (first, second), mine in zip(PAIRS[kind][1], types, strict=True):
        if second is None:  # a query among pairs (a ranking pool): one segment, type 0
            assert mine == [0] * len(tokenizer(first)["input_ids"])
        else:
            assert mine == tokenizer(first, second, return_token_type_ids=True)["token_type_ids"] and 1 in mine


@pytest.mark.parametrize("kind", PAIRS)
def test_features_for_an_encoder_without_token_types_carry_none(bert, tmp_path, kind):
    tokenizer, _ = bert
    found = features(kind, tokenizer, tmp_path, token_types=False)
    assert found and not any(key.endswith(TOKEN_TYPES) for feature in found for key in feature)


def adapt(backbone, method: str):
    cls = get_method(method)
    options = cls.Options(prompt_length=0) if method != "finetune" else cls.Options()
    return cls().adapt(copy.deepcopy(backbone), options).eval()


@pytest.mark.parametrize("method", ["finetune", "deep_prompt", "shallow_prompt"])
def test_every_method_encodes_a_pair_as_bert_model_does_with_token_types(bert, tmp_path, method):
    """A batch of pair features through the kinds' `encode` equals BertModel given the same token types (deep and
    shallow prompts of length 0 included), and differs from BertModel without them."""
    tokenizer, backbone = bert
    pairs = [{"id": str(i), "text_a": a, "text_b": b, "label": "yes"} for i, (a, b) in enumerate([(A, B), (C, A)])]
    found = cached_features(
        get_kind("pair_classification"), spec("pair_classification"), pairs, tokenizer, 128, tmp_path, {}, True
    )
    batch = get_kind("pair_classification").collate(found)
    with torch.no_grad():
        ours = last_hidden(adapt(backbone, method), batch)
        inputs = {key: batch[key] for key in ("input_ids", "attention_mask")}
        theirs = backbone(**inputs, token_type_ids=batch[TOKEN_TYPES]).last_hidden_state
        untyped = backbone(**inputs).last_hidden_state
    real = batch["attention_mask"].bool()
    torch.testing.assert_close(ours[real], theirs[real], atol=1e-6, rtol=0)
    assert (ours[real] - untyped[real]).abs().max() > 1e-3


@pytest.mark.parametrize("kind", PAIRS)
def test_every_pair_head_gives_its_token_types_to_the_encoder(bert, tmp_path, kind):
    """The head's output moves when the batch's token types are zeroed: they reach the encoder."""
    tokenizer, backbone = bert
    task = spec(kind)
    encoder = adapt(backbone, "finetune")
    torch.manual_seed(0)
    head = get_kind(kind).build_head(encoder, task, get_kind(kind).HeadOptions())
    model = TaskModel(encoder, head).eval()
    batch = get_kind(kind).collate(features(kind, tokenizer, tmp_path))
    zeroed = {key: torch.zeros_like(value) if key.endswith(TOKEN_TYPES) else value for key, value in batch.items()}
    with torch.no_grad():
        typed, untyped = model(batch), model(zeroed)
    assert (typed - untyped).abs().max() > 1e-4
