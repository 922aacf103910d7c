"""Retrieval scores: Mewsli-X MRR@20, LAReQA mAP@20, Tatoeba order, BUCC F1, mining and threshold."""

import numpy as np
import pytest

from xlt.errors import XltError
from xlt.kinds.margin import BitextSide, bucc_candidates, bucc_extract, bucc_threshold
from xlt.metrics import SCORERS
from xlt.metrics.retrieval import average_precision_at_k, sorted_english_order


def test_mewslix_is_mrr_at_20_with_missing_rankings_scoring_zero():
    ranked = [["x", "q1"], ["q2"], None, [f"x{i}" for i in range(20)] + ["q4"]]
    golds = [["q1"], ["q2 "], ["q3"], ["q4"]]  # gold ids are stripped, as the official reader does
    assert SCORERS["mewslix"](ranked, golds, "de") == {"map@20": pytest.approx(100 * (0.5 + 1) / 4)}


def test_submission_lines_are_id_lists_split_at_tabs_only():
    assert SCORERS["mewslix"](["Q x\tQ 1"], ["Q 1"], "de") == {"map@20": 50.0}
    assert SCORERS["lareqa"](["c 1\tc 2"], ["c 2"], "de") == {"map@20": 50.0}
    assert SCORERS["bucc"](["s 1\tt 1"], [("s 1", "t 1")], "de")["f1"] == 100.0


def test_a_mention_without_gold_entity_is_an_error_naming_it():
    with pytest.raises(XltError, match="^mention 2 has no gold entity id; each Mewsli-X mention needs one$"):
        SCORERS["mewslix"]([["a"], ["b"]], [["a"], []], "de")


def test_average_precision_at_k_by_hand():
    assert average_precision_at_k(["r1", "x", "r2", "y"], ["r1", "r2", "r3"]) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision_at_k(["r1", "r1", "r2"], ["r1", "r2"]) == pytest.approx((1 + 2 / 3) / 2)
    relevant = [f"r{i}" for i in range(25)]
    assert average_precision_at_k(relevant, relevant) == 1.0  # divided by min(25, 20)


def test_lareqa_pools_questions_and_needs_relevant_answers():
    scores = SCORERS["lareqa"]([["a", "b"], ["c", "d"]], [["b"], ["c"]], "en")
    assert scores == {"map@20": pytest.approx(75.0)}
    with pytest.raises(XltError, match="question 1 has no relevant candidate"):
        SCORERS["lareqa"]([["a"]], [[]], "en")


def test_tatoeba_gold_is_the_original_index_of_each_sorted_english_line():
    english = ["b", "a", "b", "c"]
    assert sorted_english_order(english) == [1, 0, 2, 3]  # stable for the duplicate "b"


def test_tatoeba_mock_labels_follow_the_sorted_english_order(shared_dir):
    english = (shared_dir / "data/tatoeba/tatoeba.afr-eng.eng").read_text(encoding="utf-8").splitlines()
    labels = (shared_dir / "data/xtreme-mock/labels/tatoeba/test-af.tsv").read_text().split()
    assert [str(i) for i in sorted_english_order(english)[: len(labels)]] == labels


def test_tatoeba_accuracy_does_not_depend_on_the_line_order():
    predictions, golds = [3, 1, 2, 0], [3, 0, 2, 1]
    order = sorted_english_order(["d", "b", "c", "a"])
    shuffled = SCORERS["accuracy"]([predictions[i] for i in order], [golds[i] for i in order], "af")
    assert shuffled == SCORERS["accuracy"](predictions, golds, "af") == {"accuracy": 50.0}


def test_bucc_f1_is_over_pair_sets():
    predicted = ["s1\tt1", "s2\tt2", "s3\tt9", "s1\tt1"]
    gold = [("s1", "t1"), ("s2", "t2"), ("s4", "t4"), ("s5", "t5")]
    precision, recall = 2 / 3, 2 / 4
    assert SCORERS["bucc"](predicted, gold, "de") == pytest.approx(
        {"f1": 200 * precision * recall / (precision + recall), "precision": 100 * precision, "recall": 100 * recall}
    )
    assert SCORERS["bucc"](["s9\tt9"], gold, "de") == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def _side(prefix, sentences, vectors):
    return BitextSide([f"{prefix}{i}" for i in range(len(sentences))], sentences, np.asarray(vectors, dtype=float))


def test_mining_pairs_translations_with_the_ratio_margin():
    eye = np.eye(8)
    src = _side("s", ["a", "b", "c"], eye[:3])
    translations = [eye[0] + 0.1 * eye[5], eye[1] + 0.1 * eye[6], eye[2] + 0.1 * eye[7], eye[3]]
    trg = _side("t", ["A", "B", "C", "D"], translations)
    candidates = bucc_candidates(src, trg)
    assert set(candidates) == {("s0", "t0"), ("s1", "t1"), ("s2", "t2")}  # "D" matches nothing (margin 0)
    cosine = 1 / np.sqrt(1.01)
    forward_mean, backward_mean = cosine / 4, cosine / 3  # k = min(4, pool size) neighbours each way
    assert candidates[("s0", "t0")] == pytest.approx(cosine / ((forward_mean + backward_mean) / 2))


def test_mining_drops_sentences_whose_id_is_ambiguous():
    eye = np.eye(4)
    src = _side("s", ["a", "b", "a"], [eye[0], eye[1], eye[0]])
    trg = _side("t", ["A", "B"], [eye[0], eye[1]])
    assert set(bucc_candidates(src, trg)) == {("s1", "t1")}


def test_threshold_is_chosen_on_dev_and_applied_to_test():
    dev = {("a", "1"): 0.9, ("b", "2"): 0.8, ("c", "3"): 0.7, ("d", "4"): 0.6, ("e", "5"): 0.5}
    dev_gold = ["a\t1", "b\t2", "d\t4", "f\t6"]
    # F1 peaks after 4 candidates (3 of 4 kept are right, 3 of 4 gold found): midpoint of 0.6 and 0.5
    threshold = bucc_threshold(dev, dev_gold)
    assert threshold == pytest.approx(0.55)
    test = {("x", "7"): 0.9, ("y", "8"): 0.56, ("z", "9"): 0.54}
    assert bucc_extract(test, threshold) == [("x", "7"), ("y", "8")]


def test_threshold_keeps_everything_when_the_last_candidate_is_best():
    candidates = {("a", "1"): 0.9, ("b", "2"): 0.4}
    assert bucc_threshold(candidates, ["a\t1", "b\t2"]) == 0.4
    assert len(bucc_extract(candidates, 0.4)) == 2
