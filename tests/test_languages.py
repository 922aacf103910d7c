"""Language metadata: langcodes names and scripts, URIEL families and distances through lang2vec (offline), the
explicit URIEL code mapping for every XTREME language, and the synthetic benchmark's own properties."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xlt import languages
from xlt.languages import _uriel as uriel
from xlt.languages import describe, uriel_code
from xlt.tasks import TASKS

LANGUAGES = ["en", "de", "ja", "tr", "eu", "sw", "zh"]


@pytest.fixture(scope="module")
def described(tmp_path_factory):
    """The seven languages described twice with one cache, and how often URIEL was read for them."""
    cache, computed = tmp_path_factory.mktemp("cache"), []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(languages, "_uriel", lambda *args: computed.append(args) or uriel(*args))
        first = describe(LANGUAGES, ["en"], False, cache)
        again = describe(LANGUAGES, ["en"], False, cache)
    return first, again, len(computed)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:pkg_resources is deprecated")
def test_every_xtreme_language_is_in_uriel_under_its_mapped_code():
    import lang2vec.lang2vec as l2v

    codes = {
        lang
        for _, spec in TASKS.items()
        for name, langs in spec.languages.items()
        if name in ("xtreme", "xtreme-r")
        for lang in langs
    }
    assert len(codes) >= 50
    missing = sorted(lang for lang in codes if uriel_code(lang) not in l2v.URIEL_LANGUAGES)
    assert not missing, missing
    assert [uriel_code(c) for c in ("sw", "ar", "fa", "qu", "zh", "tl", "ms", "az", "en")] == [
        "swh",
        "arb",
        "pes",
        "quz",
        "cmn",
        "tgl",
        "zsm",
        "azj",
        "eng",
    ]


def test_a_code_that_names_no_language_has_no_uriel_code():
    assert uriel_code("base") is None


@pytest.mark.slow
def test_names_families_and_scripts(described):
    (properties, _), *_ = described
    assert {lang: properties[lang]["name"] for lang in ("de", "ja", "sw", "zh")} == {
        "de": "German",
        "ja": "Japanese",
        "sw": "Swahili",
        "zh": "Chinese",
    }
    assert {lang: properties[lang]["family"] for lang in LANGUAGES} == {
        "en": "Indo-European",
        "de": "Indo-European",
        "ja": "Japonic",
        "tr": "Turkic",
        "eu": "isolate",
        "sw": "Atlantic-Congo",
        "zh": "Sino-Tibetan",
    }
    assert properties["en"]["script"] == "Latin" and properties["zh"]["script"] == "Simplified"


@pytest.mark.slow
def test_distances_from_the_training_language(described):
    (_, distances), *_ = described
    from_en = distances["from"]["en"]
    # cosine distances of syntax_knn, as measured in ../shared/docs/languages.md
    assert [from_en[lang]["syntactic"] for lang in ("de", "ja", "tr")] == pytest.approx([0.097, 0.500, 0.493], abs=1e-3)
    assert from_en["en"] == {"syntactic": 0.0, "genetic": 0.0, "geographic": 0.0}
    assert from_en["de"]["genetic"] < 0.5 < from_en["ja"]["genetic"] == 1.0  # no shared family: 1
    assert from_en["eu"]["genetic"] == 1.0  # an isolate shares no family
    assert 0 < from_en["de"]["geographic"] < from_en["ja"]["geographic"]
    assert set(distances["measures"]) == {"syntactic", "genetic", "geographic"}


@pytest.mark.slow
def test_a_language_set_is_computed_once(described):
    first, again, computed = described
    assert computed == 1 and first == again


def test_synthetic_languages_keep_their_own_properties_and_syntactic_distance(tmp_path):
    properties, distances = describe(["base", "swap", "cyrl", "sov", "vsom"], ["base"], True, tmp_path)
    assert properties["cyrl"] == {
        "name": "cyrl",
        "family": "synthetic",
        "script": "Cyrillic",
        "order": "SVO",
        "adjective": "before noun",
        "adposition": "preposition",
        "morphology": "none",
    }
    from_base = {lang: d["syntactic"] for lang, d in distances["from"]["base"].items()}
    # sov: order and adposition differ; vsom: order, adjective and morphology
    assert from_base == {"base": 0.0, "swap": 0.0, "cyrl": 0.0, "sov": 0.5, "vsom": 0.75}
    assert list(distances["measures"]) == ["syntactic"]


@pytest.mark.slow
def test_languages_are_described_when_a_lang2vec_script_shadows_the_package(tmp_path):
    """A console script runs with its own folder first on sys.path, and lang2vec installs `bin/lang2vec.py` there:
    the launcher is mimicked by a script beside such a file (one that fails if imported)."""
    (tmp_path / "lang2vec.py").write_text("raise RuntimeError('the lang2vec script was imported')\n")
    launcher = tmp_path / "launcher.py"
    launcher.write_text(
        "import sys\nfrom xlt.languages import describe\n"
        f"properties, _ = describe(['de'], ['en'], False, {str(tmp_path / 'cache')!r})\n"
        "print(properties['de']['family'])\n"
    )
    done = subprocess.run([sys.executable, str(launcher)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "Indo-European"
