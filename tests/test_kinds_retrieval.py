import copy

import pytest
import torch

from xlt.errors import XltError
from xlt.kinds import get_kind
from xlt.kinds.common import masked_mean
from xlt.methods import get_method
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

RETRIEVAL = get_kind("retrieval")
SPEC = TaskSpec(
    name="toy_tatoeba",
    kind="retrieval",
    metrics=("accuracy",),
    scorer="accuracy",
    languages={"toy": ("en",)},
    load=lambda split, lang, data_dir: [],
)
SENTENCES = [
    "the quick brown fox jumps over the lazy dog .",
    "a small cat sat on the warm mat near the door .",
    "le petit chat dort sur le tapis chaud .",
    "numbers like 12 and 345 appear .",
    "der schnelle braune fuchs springt .",
]


@pytest.fixture()
def encoder(tiny_backbone):
    method = get_method("finetune")
    return method().adapt(copy.deepcopy(tiny_backbone), method.Options()).eval()


def embed(encoder, tokenizer, examples, options):
    features = RETRIEVAL.featurize(examples, tokenizer, SPEC, max_length=64)
    head = RETRIEVAL.build_head(encoder, SPEC, options)
    with torch.no_grad():
        batches = [features[:3], features[3:]]  # two batches of different widths
        return features, [row for batch in batches for row in head(encoder, RETRIEVAL.collate(batch))]


def test_identical_sentences_retrieve_each_other(tiny_tokenizer, encoder):
    order = [3, 0, 4, 1, 2]  # candidates shuffled: query i's gold is the candidate with the same text
    examples = [{"id": f"test-xx-{i}", "query": SENTENCES[i], "candidate": SENTENCES[order[i]]} for i in range(5)]
    for options in (RETRIEVAL.HeadOptions(), RETRIEVAL.HeadOptions(layer=1, pooling="cls")):
        features, outputs = embed(encoder, tiny_tokenizer, examples, options)
        assert RETRIEVAL.decode(outputs, features, examples, SPEC) == [order.index(i) for i in range(5)]
    assert RETRIEVAL.majority([], examples, SPEC) == [0] * 5
    assert [RETRIEVAL.gold(example, SPEC) for example in examples] == list(range(5))


def test_embedding_is_the_mean_of_the_chosen_layer_specials_included(tiny_tokenizer, encoder):
    examples = [{"id": "0", "query": SENTENCES[0], "candidate": SENTENCES[1]}]
    features = RETRIEVAL.featurize(examples, tiny_tokenizer, SPEC, max_length=64)
    batch = RETRIEVAL.collate(features)
    states = encoder(batch["input_ids"], batch["attention_mask"], output_hidden_states=True).hidden_states
    for layer in (0, 1, -1):
        head = RETRIEVAL.build_head(encoder, SPEC, RETRIEVAL.HeadOptions(layer=layer))
        query = head(encoder, batch)[:, 0]  # a feature holds the example's query and its candidate
        assert torch.allclose(query, masked_mean(states[layer], batch["attention_mask"]), atol=1e-6)
    assert features[0]["input_ids"][0] == tiny_tokenizer.cls_token_id  # specials are pooled too


def test_missing_layer_no_loss_and_bad_ids_are_errors(encoder, tiny_tokenizer):
    with pytest.raises(XltError, match="lacks a query or a candidate"):
        RETRIEVAL.featurize([{"id": "e-0", "query": None, "candidate": "a"}], tiny_tokenizer, SPEC, 16)
    with pytest.raises(XltError, match="layer 5"):
        RETRIEVAL.build_head(encoder, SPEC, RETRIEVAL.HeadOptions(layer=5))
    with pytest.raises(XltError, match="pairs"):
        RETRIEVAL.loss(torch.zeros(1, 4), {})
    with pytest.raises(XltError, match="no training objective"):
        get_kind("mining").loss(torch.zeros(1, 4), {})
    with pytest.raises(XltError, match="position"):
        RETRIEVAL.gold({"id": "tatoeba-7b", "query": "a", "candidate": "b"}, SPEC)


@pytest.mark.slow  # trains a dual encoder
def test_in_batch_training_learns_an_arbitrary_pairing(tiny_tokenizer, encoder):
    """Parallel pairs train the tower (XTREME-R's dual-encoder objective): unrelated sentences get paired."""
    candidates = [SENTENCES[4], SENTENCES[3], "completely different words here ."]
    examples = [{"id": f"train-xx-{i}", "query": SENTENCES[i], "candidate": candidates[i]} for i in range(3)]
    features = RETRIEVAL.featurize(examples, tiny_tokenizer, SPEC, max_length=64)
    batch = RETRIEVAL.collate(features)
    head = RETRIEVAL.build_head(encoder, SPEC, RETRIEVAL.HeadOptions())
    encoder.train()
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=1e-3)
    first = RETRIEVAL.loss(head(encoder, batch), batch).item()
    for _ in range(30):
        loss = RETRIEVAL.loss(head(encoder, batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    encoder.eval()
    assert loss.item() < first / 4
    with torch.no_grad():
        outputs = list(head(encoder, batch).unbind(0))
    assert RETRIEVAL.decode(outputs, features, examples, SPEC) == [0, 1, 2]
