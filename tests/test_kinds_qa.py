import copy
import logging

import pytest
import torch

from xlt.data.tokenizer import train_tokenizer
from xlt.errors import XltError
from xlt.kinds import get_kind
from xlt.methods import get_method
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

QA = get_kind("qa")


def spec(**extra) -> TaskSpec:
    return TaskSpec(
        name="toy_qa",
        kind="qa",
        metrics=("f1", "exact_match"),
        scorer="squad",
        languages={"toy": ("en",)},
        load=lambda split, lang, data_dir: [],
        settings=extra,
    )


def example(context: str, answer: str, question: str = "where is it ?") -> dict:
    return {
        "id": "q",
        "question": question,
        "context": context,
        "answers": [{"text": answer, "answer_start": context.index(answer)}],
    }


def logits_pointing_at(features: list[dict]) -> list[torch.Tensor]:
    """Hand-made outputs: high start/end logits on each window's gold span, <s> elsewhere."""
    outputs = []
    for feature in features:
        logits = torch.zeros(len(feature["input_ids"]), 2)
        logits[feature["start_positions"], 0] = logits[feature["end_positions"], 1] = 5.0
        outputs.append(logits)
    return outputs


def test_answer_in_a_late_window_is_decoded_exactly(tiny_tokenizer):
    context = "the quick brown fox jumps over the lazy dog . " * 6 + "numbers like 345 appear . " + "a cat sat . " * 3
    qa = example(context, "345")
    features = QA.featurize([qa], tiny_tokenizer, spec(doc_stride=8), max_length=48)
    holding = [i for i, f in enumerate(features) if f["start_positions"] > 0]
    assert len(features) > 4 and holding and holding[0] > 2
    assert all(len(f["input_ids"]) <= 48 for f in features)
    for i in holding:
        offsets = features[i]["offsets"]
        start, end = features[i]["start_positions"], features[i]["end_positions"]
        assert context[offsets[start][0] : offsets[end][1]].strip() == "345"
    assert QA.decode(logits_pointing_at(features), features, [qa], spec()) == ["345"]


def test_windows_overlap_by_doc_stride(tiny_tokenizer):
    qa = example("the quick brown fox jumps over the lazy dog . " * 4, "lazy")
    features = QA.featurize([qa], tiny_tokenizer, spec(doc_stride=10), max_length=40)
    first, second = ([s for s in f["offsets"] if s is not None] for f in features[:2])
    assert first[-10:] == second[:10]


@pytest.mark.parametrize(
    "context, answer",
    [
        ("быстрая коричневая лиса прыгает через ленивую собаку .", "лиса"),
        ("快速的棕色狐狸跳过了懒狗。", "狐狸"),
    ],
)
def test_offsets_slice_non_latin_answers(context, answer):
    tokenizer = train_tokenizer([context, "where is it ?"] * 20, vocab_size=80)
    qa = example(context, answer)
    features = QA.featurize([qa], tokenizer, spec(), max_length=64)
    assert QA.decode(logits_pointing_at(features), features, [qa], spec()) == [answer]


def test_spans_respect_max_answer_length_and_context(tiny_tokenizer):
    qa = example("the quick brown fox jumps over the lazy dog .", "fox")
    (feature,) = QA.featurize([qa], tiny_tokenizer, spec(), max_length=64)
    logits = torch.full((len(feature["input_ids"]), 2), -5.0)
    logits[1, :] = 10.0  # a question token: never an answer
    logits[feature["start_positions"], 0] = 4.0
    logits[len(feature["input_ids"]) - 2, 1] = 9.0  # end far past start: longer than allowed
    logits[feature["end_positions"], 1] = 4.0
    assert QA.decode([logits], [feature], [qa], spec(max_answer_length=5)) == ["fox"]


def test_long_question_is_cut_with_a_warning(tiny_tokenizer, caplog):
    qa = example("the lazy dog .", "dog", question="where is the quick brown fox " * 10)
    with caplog.at_level(logging.WARNING):
        (feature,) = QA.featurize([qa], tiny_tokenizer, spec(max_query_length=8), max_length=64)
    assert feature["offsets"][1 : 1 + 8] == [None] * 8 and feature["offsets"][9 + 3] is not None
    assert "1 of 1 questions" in caplog.text


def test_doc_stride_that_leaves_no_room_is_an_error(tiny_tokenizer):
    with pytest.raises(XltError, match="doc_stride"):
        QA.featurize([example("the dog", "dog")], tiny_tokenizer, spec(doc_stride=60), max_length=64)


def test_model_runs_and_learning_signal_is_finite(tiny_tokenizer, tiny_backbone):
    method = get_method("finetune")
    encoder = method().adapt(copy.deepcopy(tiny_backbone), method.Options()).eval()
    head = QA.build_head(encoder, spec(), QA.HeadOptions())
    examples = [example("the quick brown fox jumps over the lazy dog . " * 8, "lazy"), example("a cat .", "cat")]
    features = QA.featurize(examples, tiny_tokenizer, spec(), max_length=64)
    batch = QA.collate(features)
    outputs = head(encoder, batch)
    assert outputs.shape == (len(features), batch["input_ids"].shape[1], 2)
    assert QA.loss(outputs, batch).isfinite()
    predictions = QA.decode(list(outputs.detach().unbind(0)), features, examples, spec())
    assert len(predictions) == 2 and all(p in e["context"] for p, e in zip(predictions, examples))


def test_majority_answers_nothing_and_gold_lists_answers():
    qa = example("the dog", "dog")
    assert QA.majority([qa], [qa, qa], spec()) == ["", ""]
    assert QA.gold(qa, spec()) == ["dog"]


@pytest.mark.parametrize("lang", ["zh", "th", "ar"])
def test_gold_windows_of_real_xquad_decode_to_spans_holding_the_answer(lang, shared_dir):
    import json

    data = json.loads((shared_dir / "data" / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    paragraphs = [p for article in data[:3] for p in article["paragraphs"]]
    examples = [
        {"id": q["id"], "question": q["question"], "context": p["context"], "answers": q["answers"]}
        for p in paragraphs
        for q in p["qas"]
    ]
    tokenizer = train_tokenizer([p["context"] for p in paragraphs] + [e["question"] for e in examples], 1000)
    features = QA.featurize(examples, tokenizer, spec(), max_length=128)
    assert len(features) > len(examples)  # contexts span several windows
    predictions = QA.decode(logits_pointing_at(features), features, examples, spec(max_answer_length=128))
    # a token may run past the answer ("136," for "136"), as with any subword span extraction
    assert all(e["answers"][0]["text"].strip() in p for p, e in zip(predictions, examples))
    exact = sum(p == e["answers"][0]["text"].strip() for p, e in zip(predictions, examples))
    assert exact > 0.8 * len(examples)
