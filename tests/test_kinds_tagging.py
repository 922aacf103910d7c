import copy

import pytest
import torch

from xlt.errors import XltError
from xlt.kinds import get_kind
from xlt.kinds.tagging import IGNORE
from xlt.methods import get_method
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

SPEC = TaskSpec(
    name="toy_pos",
    kind="tagging",
    metrics=("f1",),
    scorer="tagging",
    languages={"toy": ("en",)},
    load=lambda split, lang, data_dir: [],
    labels=("DET", "NOUN", "VERB", "X"),
)
TAGGING = get_kind("tagging")


def sentence(n: int) -> dict:
    words = ["the", "quickly", "fox", "jumps"]
    tags = ["DET", "X", "NOUN", "VERB"]
    return {"id": f"s{n}", "tokens": [words[i % 4] for i in range(n)], "tags": [tags[i % 4] for i in range(n)]}


def pointing_at_gold(features: list[dict], spec: TaskSpec) -> list[torch.Tensor]:
    """Hand-made outputs: each labelled first subword's logits point at its gold tag."""
    outputs = []
    for feature in features:
        logits = torch.zeros(len(feature["input_ids"]), len(spec.labels))
        for position, label in enumerate(feature["labels"]):
            if label != IGNORE:
                logits[position, label] = 1.0
        outputs.append(logits)
    return outputs


def test_first_subword_carries_the_label(tiny_tokenizer):
    example = sentence(4)
    (feature,) = TAGGING.featurize([example], tiny_tokenizer, SPEC, max_length=64)
    encoded = tiny_tokenizer(example["tokens"], is_split_into_words=True)
    assert feature["input_ids"] == encoded["input_ids"]
    word_ids, previous, expected = encoded.word_ids(), None, []
    for word in word_ids:
        first = word is not None and word != previous
        expected.append(SPEC.labels.index(example["tags"][word]) if first else IGNORE)
        previous = word
    assert feature["labels"] == expected
    assert IGNORE in expected[1:-1]  # the fixture tokenizer splits these words: the rule is exercised


def test_long_sentence_gets_exactly_one_prediction_per_word_in_order(tiny_tokenizer):
    example = sentence(50)
    features = TAGGING.featurize([sentence(3), example], tiny_tokenizer, SPEC, max_length=24)
    windows = [f for f in features if f["example_index"] == 1]
    assert len(windows) > 3 and all(len(f["input_ids"]) <= 24 for f in windows)
    predictions = TAGGING.decode(pointing_at_gold(features, SPEC), features, [sentence(3), example], SPEC)
    assert predictions[1] == example["tags"] and predictions[0] == sentence(3)["tags"]


def test_a_word_longer_than_the_window_keeps_its_prediction(tiny_tokenizer):
    example = {"tokens": ["the", "supercalifragilistic" * 3, "fox"], "tags": ["DET", "X", "NOUN"]}
    features = TAGGING.featurize([example], tiny_tokenizer, SPEC, max_length=10)
    assert all(len(f["input_ids"]) <= 10 for f in features)
    labelled = [label for f in features for label in f["labels"] if label != IGNORE]
    assert labelled == [0, 3, 1]
    assert TAGGING.decode(pointing_at_gold(features, SPEC), features, [example], SPEC) == [example["tags"]]


def test_model_predicts_every_word_of_a_long_sentence(tiny_tokenizer, tiny_backbone):
    method = get_method("finetune")
    encoder = method().adapt(copy.deepcopy(tiny_backbone), method.Options()).eval()
    head = TAGGING.build_head(encoder, SPEC, TAGGING.HeadOptions()).eval()
    examples = [sentence(200), sentence(5)]
    features = TAGGING.featurize(examples, tiny_tokenizer, SPEC, max_length=encoder.max_input_length)
    batch = TAGGING.collate(features)
    with torch.no_grad():
        outputs = head(encoder, batch)
    assert TAGGING.loss(outputs, batch).isfinite()
    predictions = TAGGING.decode(list(outputs.unbind(0)), features, examples, SPEC)
    assert [len(p) for p in predictions] == [200, 5] and all(tag in SPEC.labels for p in predictions for tag in p)


def test_unlabelled_sentences_featurize_without_labels(tiny_tokenizer):
    features = TAGGING.featurize([{"tokens": ["the", "fox"]}, {"tokens": []}], tiny_tokenizer, SPEC, 16)
    assert "labels" not in features[0] and features[1]["input_ids"] == [0, 2]
    assert TAGGING.collate(features)["input_ids"].shape == (2, len(features[0]["input_ids"]))


def test_unknown_tag_is_a_one_line_error(tiny_tokenizer):
    with pytest.raises(XltError, match="'ADJ'"):
        TAGGING.featurize([{"tokens": ["red"], "tags": ["ADJ"]}], tiny_tokenizer, SPEC, 16)


def test_majority_is_the_most_frequent_training_tag_everywhere():
    train = [
        {"tokens": ["the", "the", "run"], "tags": ["DET", "DET", "VERB"]},
        {"tokens": ["run", "dog", "cat"], "tags": ["VERB", "NOUN", "NOUN"]},
        {"tokens": ["dog"], "tags": ["NOUN"]},
    ]
    predictions = TAGGING.majority(train, [{"tokens": ["the", "run", "unseen"]}, {"tokens": ["x"]}], SPEC)
    assert predictions == [["NOUN", "NOUN", "NOUN"], ["NOUN"]]
    assert TAGGING.gold(sentence(2), SPEC) == ["DET", "X"]


@pytest.mark.parametrize("lang", ["en", "zh", "ar"])
def test_real_udpos_sentences_get_every_tag_back_through_windows(lang, shared_dir):
    from xlt.data.tokenizer import train_tokenizer

    text = (shared_dir / "data" / "udpos" / f"test-{lang}.tsv").read_text(encoding="utf-8")
    sentences = [[line.split("\t") for line in block.splitlines()] for block in text.split("\n\n")[:300] if block]
    examples = [{"tokens": [w for w, _ in s], "tags": [t for _, t in s]} for s in sentences]
    spec = TaskSpec(
        name="udpos_sample",
        kind="tagging",
        metrics=("f1",),
        scorer="tagging",
        languages={"toy": (lang,)},
        load=lambda split, language, data_dir: [],
        labels=tuple(sorted({t for e in examples for t in e["tags"]})),
    )
    tokenizer = train_tokenizer([" ".join(e["tokens"]) for e in examples], vocab_size=1000)
    features = TAGGING.featurize(examples, tokenizer, spec, max_length=32)
    assert len(features) > len(examples) and all(len(f["input_ids"]) <= 32 for f in features)
    predictions = TAGGING.decode(pointing_at_gold(features, spec), features, examples, spec)
    assert predictions == [e["tags"] for e in examples]
