"""What a study knows about its languages: name, family and script of each, and its distances from a training
language, written into the study directory (languages.json, distances.json) for the report to read.

Real languages: names and likely scripts from langcodes (CLDR, through language-data); families and feature vectors
from URIEL through lang2vec, which ships its data (nothing is downloaded). A distance is the cosine distance between
two languages' URIEL vectors, as in Lin et al. (2019) and Lauscher et al. (2020): syntactic on `syntax_knn` (WALS,
SSWL and Ethnologue syntax features, gaps filled by k-nearest-neighbour prediction), genetic on `fam` (membership of
every Glottolog family and subfamily; 1 when two languages share none), geographic on `geo` (distances to fixed
points on the globe). lang2vec takes a minute on a slow machine, so each language set's answer is cached.

Synthetic benchmark languages keep the benchmark's own properties (`xlt.data.synthetic`); their syntactic distance
is the share of word-order and morphology properties that differ, and they have no genealogy or geography.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from xlt.runtime.io import atomic_write_json, stable_hash

MEASURES = {
    "syntactic": "cosine distance of URIEL syntax_knn vectors (lang2vec)",
    "genetic": "cosine distance of URIEL family-membership vectors (lang2vec fam; 1 = no shared family)",
    "geographic": "cosine distance of URIEL geo vectors (lang2vec)",
}
FEATURE_SETS = {"syntactic": "syntax_knn", "genetic": "fam", "geographic": "geo"}
SYNTHETIC_MEASURES = {
    "syntactic": "share of the word-order and morphology properties that differ "
    "(order, adjective, adposition, morphology)"
}
# langcodes gives the ISO 639-3 code of a macrolanguage; URIEL holds some only as the individual language
# XTREME's data is in (Swahili, Arabic, Persian, Quechua as XCOPA's Cusco Quechua, Azerbaijani, Malay, Chinese)
# or under the code of the language a later standard renamed (Filipino, XTREME's `tl`, is URIEL's Tagalog).
URIEL_CODES = {
    "swa": "swh",
    "ara": "arb",
    "fas": "pes",
    "que": "quz",
    "aze": "azj",
    "msa": "zsm",
    "zho": "cmn",
    "fil": "tgl",
}

Properties = dict[str, dict[str, Any]]  # language -> property -> value (languages.json)
Distances = dict[str, dict[str, dict[str, float | None]]]  # training language -> language -> measure -> distance


def uriel_code(lang: str) -> str | None:
    """The ISO 639-3 code URIEL files a language under; None for a code that names no language."""
    import langcodes

    try:
        alpha3 = langcodes.Language.get(lang).to_alpha3()
    except (langcodes.LanguageTagError, LookupError):
        return None
    return URIEL_CODES.get(alpha3, alpha3)


def describe(languages: list[str], sources: list[str], synthetic: bool, cache_root: Path) -> tuple[Properties, dict]:
    """Each language's properties, and the distances.json payload: the measures and, from every source (training)
    language, every language's distance."""
    if synthetic:
        from xlt.data.synthetic import language_properties, syntactic_distance

        properties = {
            lang: {"name": lang, "family": "synthetic", **props}
            for lang, props in language_properties().items()
            if lang in languages
        }
        distances: Distances = {
            src: {lang: {"syntactic": syntactic_distance(src, lang)} for lang in languages} for src in sources
        }
        return properties, {"measures": SYNTHETIC_MEASURES, "from": distances}
    key = stable_hash({"languages": sorted(set(languages) | set(sources)), "lang2vec": metadata.version("lang2vec")})
    cached = Path(cache_root) / "languages" / f"{key}.json"
    if cached.is_file():
        properties, payload = json.loads(cached.read_text(encoding="utf-8"))
        return properties, payload
    properties, distances = _uriel(languages, sources)
    payload = {"measures": MEASURES, "from": distances}
    atomic_write_json(cached, [properties, payload])
    return properties, payload


def _uriel(languages: list[str], sources: list[str]) -> tuple[Properties, Distances]:
    import langcodes

    l2v = _lang2vec()
    everyone = list(dict.fromkeys([*languages, *sources]))
    codes = {lang: uriel_code(lang) for lang in everyone}
    known = [code for lang in everyone if (code := codes[lang]) is not None and code in l2v.URIEL_LANGUAGES]
    features = {
        measure: l2v.get_features(known, feature_set, header=True) for measure, feature_set in FEATURE_SETS.items()
    }
    vectors: dict[str, dict[str, np.ndarray]] = {
        measure: {code: np.asarray(table[code], dtype=float) for code in known} for measure, table in features.items()
    }
    properties: Properties = {}
    for lang in languages:
        code = codes[lang]
        if code is None:
            properties[lang] = {"name": lang}
            continue
        tag = langcodes.Language.get(lang)
        properties[lang] = {
            "name": tag.display_name(),
            "family": _family(features["genetic"], code),
            "script": tag.maximize().script_name(),
            "iso639-3": code,
        }
    distances = {
        src: {
            lang: {measure: _distance(vectors[measure], codes[src], codes[lang], measure) for measure in FEATURE_SETS}
            for lang in languages
        }
        for src in sources
    }
    return properties, distances


def _lang2vec() -> Any:
    """The module `lang2vec.lang2vec`, whatever launched xlt. lang2vec also installs a script `bin/lang2vec.py`, and
    a console script (the installed `xlt`) runs with bin/ first on sys.path, where `import lang2vec` would execute
    that script (which then looks for URIEL's data beside itself). So the package is loaded from where its
    distribution installed it."""
    package = Path(str(metadata.distribution("lang2vec").locate_file("lang2vec")))
    if not hasattr(sys.modules.get("lang2vec"), "__path__"):  # not imported yet, or the script was
        spec = importlib.util.spec_from_file_location(
            "lang2vec", package / "__init__.py", submodule_search_locations=[str(package)]
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["lang2vec"] = module
        spec.loader.exec_module(module)
    with warnings.catch_warnings():  # lang2vec 1.1.2 imports pkg_resources, which warns that it is deprecated
        warnings.simplefilter("ignore")
        import lang2vec.lang2vec as l2v  # the package's, found through the package in sys.modules

    return l2v


def _family(fam: dict[str, list], code: str) -> str | None:
    """The top-level family (URIEL lists a language's families root first); a language in none, such as Basque,
    is an isolate; None when URIEL does not have the language."""
    if code not in fam:
        return None
    members = [name for name, value in zip(fam["CODE"], fam[code]) if value == 1]
    return str(members[0]).removeprefix("F_").replace("_", " ") if members else "isolate"


def _distance(vectors: dict[str, np.ndarray], a: str | None, b: str | None, measure: str) -> float | None:
    if a is None or b is None or a not in vectors or b not in vectors:
        return None  # not in URIEL
    u, v = vectors[a], vectors[b]
    if np.any(u < 0) or np.any(v < 0):
        return None  # -1 marks a value URIEL does not have
    norms = float(np.linalg.norm(u) * np.linalg.norm(v))
    if norms == 0:
        return 1.0 if measure == "genetic" else None  # no family in common with anything: as far apart as can be
    return round(1.0 - float(u @ v) / norms, 6)
