"""The Arrow feature cache: a second call reads what the first wrote; any preprocessing change misses."""

import dataclasses

import pytest

from xlt.data.features import cached_features
from xlt.data.tokenizer import train_tokenizer
from xlt.kinds import get_kind
from xlt.tasks.spec import TaskSpec

CONTEXT = "anna lives in bonn . " * 30
EXAMPLES = [{"id": "q1", "question": "where ?", "context": CONTEXT, "answers": [{"text": "bonn", "answer_start": 14}]}]
SPEC = TaskSpec(
    name="toy_qa",
    kind="qa",
    metrics=("f1",),
    scorer="squad",
    languages={"toy": ("en",)},
    load=lambda split, lang, data_dir: EXAMPLES,
)


class CountingKind:
    """The QA kind, counting how often it featurises."""

    def __init__(self):
        self.kind, self.calls, self.name = get_kind("qa"), 0, "qa"

    def featurize(self, *args):
        self.calls += 1
        return self.kind.featurize(*args)


@pytest.fixture()
def cache(tmp_path, tiny_tokenizer):
    kind = CountingKind()

    def features(spec=SPEC, max_length=64, key=None, tokenizer=tiny_tokenizer):
        return cached_features(kind, spec, EXAMPLES, tokenizer, max_length, tmp_path, key or {"split": "test"})

    return kind, features


def test_second_call_reads_the_cache_with_equal_batches(cache):
    kind, features = cache
    first, second = features(), features()
    assert kind.calls == 1 and features() == second
    batch, again = kind.kind.collate(first), kind.kind.collate(second)
    assert batch.keys() == again.keys() and all((batch[k] == again[k]).all() for k in batch)


def test_every_preprocessing_change_featurises_again(cache, tiny_tokenizer):
    kind, features = cache
    base = features()
    # QA windows are task settings; a smaller overlap between windows needs fewer of them
    less_overlap = features(spec=dataclasses.replace(SPEC, settings={"doc_stride": 8}))
    assert kind.calls == 2 and len(less_overlap) < len(base)
    features(max_length=48)
    features(key={"split": "dev"})
    features(tokenizer=train_tokenizer(["anna lives in bonn ."] * 50, vocab_size=40))
    assert kind.calls == 5


def test_concurrent_writers_keep_one_complete_copy(tmp_path):
    """Cluster jobs featurise the same split at once: the second writer finds the first's copy in place and
    keeps it; an unmarked leftover (a crash mid-write) is replaced; no private directory is left behind."""
    from datasets import Dataset, load_from_disk

    from xlt.data.features import _publish

    path = tmp_path / "features" / "key"
    _publish(Dataset.from_list([{"x": 1}]), path)
    _publish(Dataset.from_list([{"x": 2}]), path)  # lost the race: the rename fails onto a complete copy
    assert load_from_disk(str(path)).to_list() == [{"x": 1}] and (path / "COMPLETED").exists()
    (path / "COMPLETED").unlink()
    _publish(Dataset.from_list([{"x": 3}]), path)
    assert load_from_disk(str(path)).to_list() == [{"x": 3}]
    assert sorted(p.name for p in path.parent.iterdir()) == ["key"]
