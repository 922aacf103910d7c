"""Hugging Face Hub access: one-line errors at once when offline, and Hub rows converted like release files."""

from __future__ import annotations

import time

import datasets
import pytest

from xlt.data import hub
from xlt.data.hub_rows import pair_rows
from xlt.data.sources import HubSource
from xlt.errors import XltError
from xlt.tasks import get_task


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


def test_offline_fails_at_once_naming_the_variables_and_data_dir(offline, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    source = HubSource("xlt-tests/no-such-dataset", "{lang}", {"test": "test"}, pair_rows("a", "b"))
    start = time.perf_counter()
    with pytest.raises(XltError) as error:
        source.load("test", {"lang": "de"})
    assert time.perf_counter() - start < 1.0
    message = str(error.value)
    assert "HF_HUB_OFFLINE=1" in message and "HF_DATASETS_OFFLINE=1" in message and "data_dir" in message
    assert "\n" not in message


def test_offline_variables_set_after_datasets_was_imported_never_touch_the_network(offline, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)  # datasets read the variables before they were set
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("load_dataset was called"))
    start = time.perf_counter()
    with pytest.raises(XltError, match=r"facebook/xnli \(de\).*HF_HUB_OFFLINE=1.*data_dir"):
        get_task("xnli").load("test", "de", None)
    assert time.perf_counter() - start < 1.0


def test_unreachable_hub_fails_after_a_short_probe(monkeypatch):
    for name in hub.OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def refuse(address, timeout):
        assert timeout <= hub.PROBE_TIMEOUT_S
        raise OSError("Name or service not known")

    monkeypatch.setattr(hub.socket, "create_connection", refuse)
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("load_dataset was called"))
    with pytest.raises(XltError, match=r"unreachable \(Name or service not known\).*data_dir.*HF_DATASETS_OFFLINE=1"):
        get_task("udpos").load("test", "de", None)


def test_offline_variables_accept_only_true_values(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "TRUE")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "no")
    assert hub.offline_variables() == ["HF_DATASETS_OFFLINE=TRUE"]


# ---- Hub rows -> examples (the Hub replaced by in-memory datasets) ----------------------------------------


@pytest.fixture
def fake_hub(monkeypatch):
    """Serves `rows[(dataset, config, split)]` as a `datasets.Dataset` and records the requests."""
    rows, requests = {}, []

    def load_split(dataset, config, split):
        requests.append((dataset, config, split))
        return rows[(dataset, config, split)]

    monkeypatch.setattr(hub, "load_split", load_split)
    return rows, requests


def test_xnli_hub_labels_become_release_strings(fake_hub):
    rows, requests = fake_hub
    features = datasets.Features(
        {
            "premise": datasets.Value("string"),
            "hypothesis": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["entailment", "neutral", "contradiction"]),
        }
    )
    rows[("facebook/xnli", "de", "validation")] = datasets.Dataset.from_dict(
        {"premise": ["P", "Q"], "hypothesis": ["H", "I"], "label": [2, 0]}, features=features
    )
    examples = get_task("xnli").load("dev", "de", None)
    assert requests == [("facebook/xnli", "de", "validation")]
    assert examples == [
        {"id": "dev-de-0", "text_a": "P", "text_b": "H", "label": "contradiction"},
        {"id": "dev-de-1", "text_a": "Q", "text_b": "I", "label": "entailment"},
    ]


def test_udpos_hub_config_uses_the_language_name(fake_hub):
    rows, requests = fake_hub
    names = list(get_task("udpos").labels)
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "pos_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    rows[("google/xtreme", "udpos.German", "test")] = datasets.Dataset.from_dict(
        {"tokens": [["Sie", "läuft"]], "pos_tags": [[names.index("PRON"), names.index("VERB")]]}, features=features
    )
    expected = [{"id": "test-de-0", "tokens": ["Sie", "läuft"], "tags": ["PRON", "VERB"]}]
    assert get_task("udpos").load("test", "de", None) == expected


def test_tydiqa_hub_rows_are_filtered_by_language(fake_hub):
    rows, _ = fake_hub
    answers = {"text": ["a"], "answer_start": [0]}
    rows[("google/xtreme", "tydiqa", "validation")] = datasets.Dataset.from_dict(
        {
            "id": ["swahili-1", "english-2", "swahili-3"],
            "context": ["a"] * 3,
            "question": ["q"] * 3,
            "answers": [answers] * 3,
        }
    )
    examples = get_task("tydiqa").load("test", "sw", None)
    assert [e["id"] for e in examples] == ["swahili-1", "swahili-3"]
    assert examples[0]["answers"] == [{"text": "a", "answer_start": 0}]


def test_multiple_choice_and_bitext_hub_rows(fake_hub):
    rows, requests = fake_hub
    rows[("allenai/social_i_qa", None, "train")] = datasets.Dataset.from_dict(
        {"context": ["C"], "question": ["Q"], "answerA": ["a"], "answerB": ["b"], "answerC": ["c"], "label": ["2"]}
    )
    rows[("cambridgeltl/xcopa", "qu", "test")] = datasets.Dataset.from_dict(
        {"premise": ["P"], "choice1": ["A"], "choice2": ["B"], "question": ["effect"], "label": [1], "idx": [4]}
    )
    rows[("mteb/tatoeba-bitext-mining", "pes-eng", "test")] = datasets.Dataset.from_dict(
        {"sentence1": [" سلام "], "sentence2": ["Hello"]}
    )
    assert get_task("siqa").load("train", "en", None)[0]["label"] == 1
    assert get_task("xcopa").load("test", "qu", None) == [
        {"id": "test-qu-4", "premise": "P", "question": "effect", "choices": ["A", "B"], "label": 1}
    ]
    expected = [{"id": "test-fa-0", "query": "Hello", "candidate": "سلام"}]
    assert get_task("tatoeba").load("test", "fa", None) == expected


def test_a_split_the_hub_lacks_raises_without_a_request(fake_hub):
    _, requests = fake_hub
    with pytest.raises(XltError, match="google/xquad has no 'train' split on the Hub"):
        get_task("xquad").load("train", "en", None)
    assert requests == []
