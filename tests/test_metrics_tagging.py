"""Tagging scores: seqeval 0.0.12 chunking (hand-written) against seqeval 1.2.2 (installed)."""

import random
import warnings

import pytest
from seqeval.metrics.sequence_labeling import get_entities

from xlt.errors import XltError
from xlt.metrics import SCORERS
from xlt.metrics.tagging import entities_0012

tagging = SCORERS["tagging"]


@pytest.mark.filterwarnings("ignore:.*seems not to be NE tag")
def test_bare_tags_keep_their_type_in_0012_and_lose_a_letter_in_1_2():
    sentence = ["NOUN", "NOUN", "VERB"]
    assert entities_0012([sentence]) == [{("NOUN", 0, 1), ("VERB", 2, 2)}]
    assert get_entities(sentence) == [("OUN", 0, 1), ("ERB", 2, 2)]


def test_one_wrong_tag_costs_more_f1_than_accuracy():
    gold = [["NOUN", "NOUN", "VERB", "DET", "NOUN"]]
    predicted = [["ADJ", "NOUN", "VERB", "DET", "NOUN"]]
    scores = tagging(predicted, gold, "en")
    assert scores["f1"] == pytest.approx(200 / 3)  # 3 of 5 predicted chunks match 3 of 4 gold ones
    assert scores["f1_seqeval_1_2"] == pytest.approx(200 / 3)
    assert scores["precision"] == pytest.approx(60.0)
    assert scores["recall"] == pytest.approx(75.0)
    assert scores["accuracy"] == pytest.approx(80.0)
    assert list(scores)[0] == "f1"


def test_the_two_readings_differ_where_1_2_merges_types():
    # 1.2.2 reads CCONJ and SCONJ as the same type "CONJ", so the gold CCONJ chunk disappears.
    gold = [["CCONJ", "SCONJ", "NOUN"]]
    predicted = [["CCONJ", "ADV", "NOUN"]]
    scores = tagging(predicted, gold, "en")
    assert scores["f1"] == pytest.approx(200 / 3)
    assert scores["f1_seqeval_1_2"] == pytest.approx(40.0)


def test_iob2_tags_score_the_same_under_both_readings():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["I-ORG", "I-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "O"]]
    scores = tagging(predicted, gold, "de")
    assert scores["f1"] == pytest.approx(200 / 3)  # an I- without B- still opens an entity
    assert scores["f1_seqeval_1_2"] == pytest.approx(scores["f1"])
    assert scores["precision_seqeval_1_2"] == pytest.approx(scores["precision"])


def test_chunks_never_cross_sentences():
    assert entities_0012([["NOUN"], ["NOUN"]]) == [{("NOUN", 0, 0)}, {("NOUN", 2, 2)}]
    assert tagging([["NOUN"], ["NOUN"]], [["NOUN"], ["NOUN"]], "en")["f1"] == 100.0


def test_no_chunks_at_all_scores_zero():
    assert tagging([["O", "O"]], [["O", "O"]], "en")["f1"] == 0.0


def test_adjacent_entities_of_one_type_are_separate_chunks():
    assert entities_0012([["B-PER", "B-PER", "I-PER", "O"]]) == [{("PER", 0, 0), ("PER", 1, 2)}]
    assert entities_0012([["I-PER", "B-PER"]]) == [{("PER", 0, 0), ("PER", 1, 1)}]


def test_0012_entities_of_prefixed_tags_are_seqeval_1_2s_own():
    # With one-letter prefixes (IOB1, IOB2, IOE, IOBES) both readings split tags alike, and the chunk rules are
    # seqeval's own: the hand-written extraction loop must find exactly the entities 1.2.2's get_entities finds.
    rng = random.Random(0)
    tags = ["O"] + [f"{prefix}-{type_}" for prefix in "BIES" for type_ in ("PER", "LOC")]
    sentences = [[rng.choice(tags) for _ in range(rng.randint(1, 8))] for _ in range(300)]
    found = set().union(*entities_0012(sentences))
    assert found == set(get_entities(sentences))
    assert len(found) > 300  # many entities, of every prefix pattern


def test_a_sentence_of_the_wrong_length_is_an_error():
    match = "sentence 2 has 1 predicted tags but 2 gold tags; predict one tag for every gold word$"
    with pytest.raises(XltError, match=match):
        tagging([["NOUN"], ["NOUN"]], [["NOUN"], ["NOUN", "VERB"]], "en")


@pytest.mark.parametrize("labels", [("NOUN", "VERB", "CCONJ", "SCONJ", "X"), ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")])
def test_seqeval_1_2_scores_are_exactly_seqevals_own_functions(labels):
    from seqeval.metrics import f1_score, precision_score, recall_score

    rng = random.Random(0)
    golds = [[rng.choice(labels) for _ in range(rng.randint(1, 12))] for _ in range(200)]
    predictions = [[tag if rng.random() < 0.7 else rng.choice(labels) for tag in gold] for gold in golds]
    scores = tagging(predictions, golds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert scores["f1_seqeval_1_2"] == 100 * float(f1_score(golds, predictions))
        assert scores["precision_seqeval_1_2"] == 100 * float(precision_score(golds, predictions))
        assert scores["recall_seqeval_1_2"] == 100 * float(recall_score(golds, predictions))
