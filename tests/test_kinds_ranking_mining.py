"""The pooled retrieval kinds: ranking a shared candidate pool (Mewsli-X, LAReQA) and mining (BUCC)."""

import copy

import pytest
import torch
from torch.nn import functional as F

from test_kinds_retrieval import SENTENCES as RETRIEVAL_SENTENCES
from xlt.errors import XltError
from xlt.kinds import get_kind
from xlt.kinds.dual_encoder import SCALE
from xlt.methods import get_method
from xlt.metrics import SCORERS
from xlt.pipeline.stage.evaluator import run_model
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

RANKING, MINING = get_kind("ranking"), get_kind("mining")
SENTENCES = [*RETRIEVAL_SENTENCES, "she sells sea shells by the sea shore ."]


def spec(kind: str) -> TaskSpec:
    return TaskSpec(
        name=f"toy_{kind}",
        kind=kind,
        metrics=("m",),
        scorer="m",
        languages={"toy": ("en",)},
        load=lambda split, lang, data_dir: [],
    )


class Model(torch.nn.Module):
    """Encoder + head with the TaskModel call convention, counting the rows it embeds."""

    def __init__(self, encoder, head):
        super().__init__()
        self.encoder, self.head, self.rows = encoder, head, 0

    def forward(self, batch):
        self.rows += len(batch["input_ids"])
        return self.head(self.encoder, batch)


@pytest.fixture()
def model(tiny_backbone):
    method = get_method("finetune")
    encoder = method().adapt(copy.deepcopy(tiny_backbone), method.Options()).eval()
    return Model(encoder, RANKING.build_head(encoder, spec("ranking"), RANKING.HeadOptions()))


def predict(kind, model, examples, tokenizer, seen=None):
    features = kind.featurize(examples, tokenizer, spec(kind.name), max_length=64)
    outputs = run_model(model, kind, features, batch_size=4, seen=seen)
    return kind.decode(outputs, features, examples, spec(kind.name))


def pool_examples(order):
    """Queries 0..2 whose relevant candidate has the same text, in a pool of all six sentences."""
    queries = [{"id": f"q{i}", "query": SENTENCES[i], "relevant": [f"c{i}"]} for i in range(3)]
    pool = [{"id": f"c{i}", "candidate": SENTENCES[i], "candidate_id": f"c{i}"} for i in order]
    return queries + pool


def test_each_query_ranks_its_identical_candidate_first_and_scores_one(model, tiny_tokenizer):
    examples = pool_examples([5, 2, 0, 4, 1, 3])
    ranked = predict(RANKING, model, examples, tiny_tokenizer)
    assert [r[0] for r in ranked] == ["c0", "c1", "c2"]
    assert all(sorted(r) == sorted(f"c{i}" for i in range(6)) for r in ranked)  # the pool, < TOP_K: all of it
    golds = [RANKING.gold(e, spec("ranking")) for e in RANKING.scored(examples)]
    assert golds == [["c0"], ["c1"], ["c2"]]
    assert SCORERS["mewslix"](ranked, golds, "en")["map@20"] == 100.0
    assert RANKING.majority([], examples, spec("ranking")) == [["c5", "c2", "c0", "c4", "c1", "c3"]] * 3


def test_a_candidate_with_context_is_encoded_as_a_sentence_pair(tiny_tokenizer):
    """LAReQA's candidates: the answer sentence, then its paragraph as a second segment (XTREME-R)."""
    examples = [
        {"id": "q", "query": SENTENCES[0], "relevant": ["c0"]},
        {"id": "c0", "candidate": SENTENCES[1], "candidate_id": "c0", "candidate_context": SENTENCES[2]},
        {"id": "c1", "candidate": SENTENCES[1], "candidate_id": "c1"},
    ]
    features = {f["example_index"]: f for f in RANKING.featurize(examples, tiny_tokenizer, spec("ranking"), 128)}
    paired = tiny_tokenizer(SENTENCES[1], SENTENCES[2])["input_ids"]
    assert features[1]["input_ids"] == paired and features[2]["input_ids"] == tiny_tokenizer(SENTENCES[1])["input_ids"]
    cut = RANKING.featurize(examples, tiny_tokenizer, spec("ranking"), 12)  # longest segment cut first
    assert all(len(f["input_ids"]) <= 12 for f in cut)


def test_ranking_follows_cosine_similarity_of_the_embeddings(model, tiny_tokenizer):
    examples = pool_examples(range(6))
    features = RANKING.featurize(examples, tiny_tokenizer, spec("ranking"), max_length=64)
    outputs = run_model(model, RANKING, features, batch_size=64)
    queries = F.normalize(torch.stack(outputs[:3]), dim=-1)
    pool = F.normalize(torch.stack(outputs[3:]), dim=-1)
    expected = [[f"c{j}" for j in row] for row in (queries @ pool.T).argsort(dim=-1, descending=True).tolist()]
    assert RANKING.decode(outputs, features, examples, spec("ranking")) == expected


def test_a_task_may_rank_by_raw_inner_products():
    """LAReQA's official ranking uses dot products: a long candidate vector wins there, not under cosine."""
    import dataclasses

    examples = [
        {"id": "q", "query": "q", "relevant": ["near"]},
        {"id": "near", "candidate": "n", "candidate_id": "near"},
        {"id": "long", "candidate": "l", "candidate_id": "long"},
    ]
    features = [
        {"example_index": 0, "role": "query"},
        {"example_index": 1, "role": "candidate"},
        {"example_index": 2, "role": "candidate"},
    ]
    outputs = [torch.tensor([1.0, 0.0]), torch.tensor([1.0, 0.1]), torch.tensor([5.0, 5.0])]
    assert RANKING.decode(outputs, features, examples, spec("ranking")) == [["near", "long"]]
    dot = dataclasses.replace(spec("ranking"), settings={"similarity": "dot"})
    assert RANKING.decode(outputs, features, examples, dot) == [["long", "near"]]


def test_a_pool_shared_by_languages_is_embedded_once(model, tiny_tokenizer):
    seen: dict = {}
    first = predict(RANKING, model, pool_examples(range(6)), tiny_tokenizer, seen)
    assert model.rows == 6  # a query and a candidate with the same text are one input of the one tower
    other_language = [{"id": "q9", "query": "a new query about a fox .", "relevant": ["c0"]}]
    again = predict(RANKING, model, other_language + pool_examples(range(6))[3:], tiny_tokenizer, seen)
    assert model.rows == 7  # only the new query ran
    alone = predict(RANKING, model, other_language + pool_examples(range(6))[3:], tiny_tokenizer)
    assert again == alone and first == predict(RANKING, model, pool_examples(range(6)), tiny_tokenizer)


def test_in_batch_softmax_loss_on_training_pairs(model, tiny_tokenizer):
    pairs = [
        {"id": f"p{i}", "query": SENTENCES[i], "candidate": SENTENCES[i + 3], "candidate_id": f"c{i}"} for i in range(3)
    ]
    features = RANKING.featurize(pairs, tiny_tokenizer, spec("ranking"), max_length=64)
    batch = RANKING.collate(features)
    outputs = model(batch)
    assert outputs.shape == (3, 2, model.encoder.hidden_size)
    queries = F.normalize(model.head.embed(model.encoder, batch["input_ids"], batch["attention_mask"]), dim=-1)
    candidates = F.normalize(
        model.head.embed(model.encoder, batch["candidate_input_ids"], batch["candidate_attention_mask"]), dim=-1
    )
    expected = -torch.log_softmax(SCALE * queries @ candidates.T, dim=-1).diagonal().mean()
    assert torch.allclose(RANKING.loss(outputs, batch), expected, atol=1e-5)


def test_a_repeated_candidate_is_not_its_own_negative(model, tiny_tokenizer):
    """Two mentions of one entity in a batch: each query's loss leaves out the other copy."""
    pairs = [
        {"id": f"p{i}", "query": SENTENCES[i], "candidate": SENTENCES[3 + i % 2], "candidate_id": f"c{i % 2}"}
        for i in range(3)
    ]  # p0 and p2 both link to c0
    features = RANKING.featurize(pairs, tiny_tokenizer, spec("ranking"), max_length=64)
    batch = RANKING.collate(features)
    outputs = model(batch)
    queries, candidates = F.normalize(outputs[:, 0], dim=-1), F.normalize(outputs[:, 1], dim=-1)
    logits = SCALE * queries @ candidates.T
    masked = logits.clone()
    masked[0, 2] = masked[2, 0] = float("-inf")
    expected = F.cross_entropy(masked, torch.arange(3))
    assert torch.allclose(RANKING.loss(outputs, batch), expected, atol=1e-5)
    assert not torch.allclose(F.cross_entropy(logits, torch.arange(3)), expected, atol=1e-5)


@pytest.mark.slow  # trains a dual encoder
def test_ranking_training_lifts_the_gold_candidate(model, tiny_tokenizer):
    pairs = [
        {"id": f"p{i}", "query": SENTENCES[i], "candidate": SENTENCES[5 - i], "candidate_id": f"c{i}"} for i in range(3)
    ]  # unrelated sentences: the pairing has to be learned
    features = RANKING.featurize(pairs, tiny_tokenizer, spec("ranking"), max_length=64)
    batch = RANKING.collate(features)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    first = RANKING.loss(model(batch), batch).item()
    for _ in range(30):
        loss = RANKING.loss(model(batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    assert loss.item() < first / 4
    assert [r[0] for r in predict(RANKING, model, pairs, tiny_tokenizer)] == ["c0", "c1", "c2"]


def test_ranking_rejects_mixed_examples_and_lone_sentences_in_training(model, tiny_tokenizer):
    mixed = [{"id": "p", "query": "a", "candidate": "b"}, {"id": "q", "query": "c", "relevant": ["x"]}]
    with pytest.raises(XltError, match="mix"):
        RANKING.featurize(mixed, tiny_tokenizer, spec("ranking"), 16)
    with pytest.raises(XltError, match="pairs"):
        RANKING.loss(torch.zeros(2, 4), {})


def bitext(calibration: bool, sources: list[int], targets: list[int], gold: list[int]) -> list[dict]:
    """Source sentences s{i} and target sentences t{i} carrying SENTENCES[i]; pairs for `gold`."""
    tag = {"calibration": True} if calibration else {}
    prefix = "dev" if calibration else "test"
    examples = [
        {
            "id": f"{prefix}-s{i}",
            "query": SENTENCES[i],
            "candidate": SENTENCES[i],
            "candidate_id": f"{prefix}-t{i}",
            **tag,
        }
        for i in gold
    ]
    examples += [{"id": f"{prefix}-s{i}", "query": SENTENCES[i], **tag} for i in sources if i not in gold]
    examples += [
        {"id": f"{prefix}-t{i}", "candidate": SENTENCES[i], "candidate_id": f"{prefix}-t{i}", **tag}
        for i in targets
        if i not in gold
    ]
    return examples


@pytest.fixture()
def embedder(model):
    return Model(model.encoder, MINING.build_head(model.encoder, spec("mining"), MINING.HeadOptions()))


def test_mining_finds_identical_sentences_with_the_threshold_from_gold(embedder, tiny_tokenizer):
    examples = bitext(False, sources=[0, 1, 2, 3], targets=[0, 1, 2, 5], gold=[0, 1, 2])
    mined = predict(MINING, embedder, examples, tiny_tokenizer)
    assert set(mined) == {("test-s0", "test-t0"), ("test-s1", "test-t1"), ("test-s2", "test-t2")}
    golds = [MINING.gold(e, spec("mining")) for e in MINING.scored(examples)]
    assert SCORERS["bucc"](mined, golds, "de")["f1"] == 100.0
    assert MINING.majority([], examples, spec("mining")) == []


def test_mining_takes_its_threshold_from_calibration_examples(embedder, tiny_tokenizer):
    """With a dev part, test's own gold is never read: dev's best threshold decides what test keeps."""
    test = bitext(False, sources=[0, 1, 3], targets=[0, 1, 4], gold=[])  # no test gold, as XTREME's
    dev = bitext(True, sources=[0, 1, 2, 3], targets=[0, 1, 2, 5], gold=[0, 1, 2])
    features = MINING.featurize(test + dev, tiny_tokenizer, spec("mining"), max_length=64)
    outputs = run_model(embedder, MINING, features, batch_size=8)
    from xlt.kinds.margin import bucc_extract, bucc_threshold
    from xlt.kinds.mining import _candidates

    embeddings = {}
    for feature, row in zip(features, outputs):
        embeddings.setdefault(feature["role"], {})[feature["example_index"]] = row
    n = len(test)
    dev_candidates = _candidates(test + dev, list(range(n, n + len(dev))), embeddings)
    threshold = bucc_threshold(dev_candidates, [(f"dev-s{i}", f"dev-t{i}") for i in range(3)])
    test_candidates = _candidates(test + dev, list(range(n)), embeddings)
    mined = MINING.decode(outputs, features, test + dev, spec("mining"))
    assert threshold > 0 and mined == bucc_extract(test_candidates, threshold)
    assert len(mined) < len(test_candidates) or min(test_candidates.values()) >= threshold
    assert MINING.scored(test + dev) == []  # calibration examples are never scored


def test_torch_knn_finds_the_neighbours_of_the_exhaustive_numpy_search():
    import numpy as np

    from xlt.kinds.margin import exhaustive_knn
    from xlt.kinds.mining import torch_knn

    rng = np.random.default_rng(0)
    queries, database = (rng.standard_normal((n, 16)).astype(np.float32) for n in (5000, 300))
    expected_sims, expected_rows = exhaustive_knn(queries, database, 4)  # 5000 rows: more than one block
    sims, rows = torch_knn(queries, database, 4)
    assert np.array_equal(rows, expected_rows) and np.allclose(sims, expected_sims, atol=1e-5)
