"""QA scores: the SQuAD v1.1 script and MLQA's per-language normalisation, on hand-made cases."""

import pytest

from xlt.errors import XltError
from xlt.metrics import SCORERS
from xlt.metrics.qa import mlqa_normalizer, squad_normalize

squad, mlqa = SCORERS["squad"], SCORERS["mlqa"]


def test_squad_normalisation_drops_ascii_punctuation_and_english_articles():
    assert squad_normalize("The  Cat, (a) Dog!") == "cat dog"
    assert squad_normalize("«Paris»") == "«paris»"  # not ASCII punctuation: kept


def test_squad_scores_token_f1_and_exact_match_with_the_best_gold():
    scores = squad(["the big cat", "dog"], [["cat sat"], ["the cat", "a dog"]], "en")
    assert scores == {"f1": pytest.approx(75.0), "exact_match": pytest.approx(50.0)}
    assert list(scores) == ["f1", "exact_match"]


def test_an_unanswered_question_scores_zero():
    assert squad([None, "Paris"], [["Paris"], ["Paris"]], "en") == {"f1": 50.0, "exact_match": 50.0}
    assert mlqa([None], [["Paris"]], "en") == {"f1": 0.0, "exact_match": 0.0}


def test_mlqa_arabic_replaces_al_anywhere_in_a_word():
    assert mlqa_normalizer("ar")("والطالب") == "و ط ب"
    # "الطالب" and "طالب" both become "ط ب": equal for MLQA, different for SQuAD
    assert mlqa(["الطالب"], [["طالب"]], "ar")["exact_match"] == 100.0
    assert squad(["الطالب"], [["طالب"]], "ar")["exact_match"] == 0.0


def test_mlqa_chinese_uses_mixed_segmentation():
    assert mlqa_normalizer("zh")("iPhone 12手机，好") == "iphone 12 手 机 好"
    # 2 shared characters out of 4 predicted and 2 gold: F1 = 2 * 0.5 * 1 / 1.5
    assert mlqa(["北京大学"], [["北京"]], "zh")["f1"] == pytest.approx(200 / 3)
    assert squad(["北京大学"], [["北京"]], "zh")["f1"] == 0.0  # XQuAD: whitespace tokens only


def test_mlqa_strips_unicode_punctuation_and_language_articles():
    assert mlqa(["«Paris»"], [["Paris"]], "en")["exact_match"] == 100.0
    assert mlqa(["Der Hund"], [["Hund"]], "de")["exact_match"] == 100.0
    assert mlqa(["los perros"], [["perros"]], "es")["exact_match"] == 100.0
    assert mlqa(["Der Hund"], [["Hund"]], "en")["exact_match"] == 0.0


def test_mlqa_segments_chinese_characters_only_for_chinese():
    # MLQA's script splits CJK characters apart only when the language is zh; elsewhere they stay one word.
    assert mlqa(["北京"], [["北京大学"]], "zh")["f1"] == pytest.approx(100 * 2 / 3)
    assert mlqa(["北京"], [["北京大学"]], "en")["f1"] == 0.0


def test_mlqa_refuses_an_unknown_language():
    with pytest.raises(
        XltError, match="no normalisation rules for language 'fr'; use one of ar, de, en, es, hi, vi, zh$"
    ):
        mlqa(["a"], [["a"]], "fr")


def test_questions_without_gold_answers_and_non_text_predictions_are_errors():
    with pytest.raises(XltError, match="question 1 has no gold answer"):
        squad(["a"], [[]], "en")
    with pytest.raises(XltError, match="not a string"):
        squad([["a"]], [["a"]], "en")
