"""Each synthetic task is learnable from its base-language train split by a tiny plain-torch model."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from torch import nn

from xlt.data.synthetic import BenchmarkSizes, generate_benchmark
from xlt.data.synthetic_grammar import BASE
from xlt.tasks import get_task

torch.set_num_threads(2)
pytestmark = pytest.mark.slow  # trains a model per task
SIZES = BenchmarkSizes(train=400, dev=10, test=100, pretrain=10)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return generate_benchmark(tmp_path_factory.mktemp("learnable") / "synthetic", seed=3, sizes=SIZES)


def _load(task, split, bench, lang=BASE):
    return get_task(task).load(split, lang, bench)


class Vocab(dict):
    def __missing__(self, word):  # unseen words share one id (0)
        return 0

    @classmethod
    def of(cls, texts):
        words = sorted({w for t in texts for w in t})
        return cls({w: i + 1 for i, w in enumerate(words)})


def _fit(model, loss_fn, steps=150, lr=0.05):
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    return loss.item()


def test_pos_is_learnable(bench):
    train, test = _load("synth-pos", "train", bench), _load("synth-pos", "test", bench)
    vocab, tags = Vocab.of(e["tokens"] for e in train), get_task("synth-pos").labels

    def tensors(examples):
        words = torch.tensor([vocab[w] for e in examples for w in e["tokens"]])
        return words, torch.tensor([tags.index(t) for e in examples for t in e["tags"]])

    (x, y), (tx, ty) = tensors(train), tensors(test)
    model = nn.Sequential(nn.Embedding(len(vocab) + 1, 16), nn.Linear(16, len(tags)))
    _fit(model, lambda: nn.functional.cross_entropy(model(x), y), steps=60)
    accuracy = (model(tx).argmax(-1) == ty).float().mean().item()
    majority = Counter(ty.tolist()).most_common(1)[0][1] / len(ty)
    assert accuracy > majority + 0.4


def test_nli_is_learnable_from_which_word_changed(bench):
    train, test = _load("synth-nli", "train", bench), _load("synth-nli", "test", bench)
    vocab = Vocab.of((e["text_a"] + " " + e["text_b"]).split() for e in train)
    labels = get_task("synth-nli").labels

    def tensors(examples):
        diff = torch.zeros(len(examples), len(vocab) + 1)
        for i, e in enumerate(examples):
            for w in e["text_b"].split():
                diff[i, vocab[w]] += 1
            for w in e["text_a"].split():
                diff[i, vocab[w]] -= 1
        return torch.cat([diff, diff.abs()], 1), torch.tensor([labels.index(e["label"]) for e in examples])

    (x, y), (tx, ty) = tensors(train), tensors(test)
    model = nn.Linear(x.shape[1], len(labels))
    _fit(model, lambda: nn.functional.cross_entropy(model(x), y))
    accuracy = (model(tx).argmax(-1) == ty).float().mean().item()
    majority = Counter(y.tolist()).most_common(1)[0][0]
    assert accuracy > (ty == majority).float().mean().item() + 0.15


def test_qa_is_learnable(bench):
    train, test = _load("synth-qa", "train", bench), _load("synth-qa", "test", bench)
    vocab = Vocab.of(e["context"].split() for e in train)

    def tensors(examples):
        rows = []
        for e in examples:
            words, question = e["context"].split(), set(e["question"].split())
            start = len(e["context"][: e["answers"][0]["answer_start"]].split())
            end = start + len(e["answers"][0]["text"].split()) - 1
            rows.append(([vocab[w] for w in words], [float(w in question) for w in words], start, end))
        width = max(len(r[0]) for r in rows)
        ids = torch.tensor([r[0] + [0] * (width - len(r[0])) for r in rows])
        in_question = torch.tensor([r[1] + [1.0] * (width - len(r[1])) for r in rows])
        return ids, in_question, torch.tensor([r[2] for r in rows]), torch.tensor([r[3] for r in rows])

    class SpanModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(len(vocab) + 1, 16)
            self.rnn = nn.GRU(17, 16, batch_first=True, bidirectional=True)
            self.out = nn.Linear(32, 2)

        def forward(self, ids, in_question):
            hidden, _ = self.rnn(torch.cat([self.embed(ids), in_question.unsqueeze(-1)], -1))
            return self.out(hidden).unbind(-1)

    ids, inq, start, end = tensors(train)
    model = SpanModel()

    def loss():
        s, e = model(ids, inq)
        return nn.functional.cross_entropy(s, start) + nn.functional.cross_entropy(e, end)

    _fit(model, loss, steps=80, lr=0.02)
    tids, tinq, tstart, tend = tensors(test)
    s, e = model(tids, tinq)
    exact = ((s.argmax(-1) == tstart) & (e.argmax(-1) == tend)).float().mean().item()
    assert exact > 0.3  # a fixed position (the "majority" answer) is almost never exact


def test_retrieval_is_learnable(bench):
    train, test = _load("synth-retrieval", "train", bench, "swap"), _load("synth-retrieval", "test", bench, "swap")
    vocab = Vocab.of((e["query"] + " " + e["candidate"]).split() for e in train)
    bag = nn.EmbeddingBag(len(vocab) + 1, 32, mode="mean")

    def encode(texts):
        ids = [torch.tensor([vocab[w] for w in t.split()]) for t in texts]
        offsets = torch.tensor([0] + [len(i) for i in ids[:-1]]).cumsum(0)
        return nn.functional.normalize(bag(torch.cat(ids), offsets), dim=-1)

    queries, candidates = [e["query"] for e in train], [e["candidate"] for e in train]
    gold = torch.arange(len(train))
    _fit(bag, lambda: nn.functional.cross_entropy(encode(queries) @ encode(candidates).T * 20, gold), steps=60)
    scores = encode([e["query"] for e in test]) @ encode([e["candidate"] for e in test]).T
    accuracy = (scores.argmax(-1) == torch.arange(len(test))).float().mean().item()
    assert accuracy > 10 / len(test)
