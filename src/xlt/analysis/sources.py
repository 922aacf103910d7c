"""Parallel sentences to embed: base-language sentences and their translations, one set per language.

A source is named on the command line (`--parallel`):
  synthetic[:DIR]          fresh sentences realised in every language of the embedded benchmark (DIR, or the
                           study's), from its own lexicon: every language is an exact translation of the base.
                           Only one-clause sentences without names or numerals: they share no token across
                           languages but the final full stop, so no similarity comes from shared tokens
  tatoeba:DIR              LASER's `tatoeba.{xxx}-eng.{xxx,eng}` files: 1,000 pairs per language
  xnli[:DIR], xquad[:DIR]  the test sets, which are parallel by index (XNLI premises, XQuAD questions)
  pairs:BASE.txt,OTHER.txt two aligned text files, line i of one translating line i of the other
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from xlt.errors import XltError
from xlt.runtime.io import stable_hash

MIN_SENTENCES = 8  # the unbiased CKA needs more than 3 sentences in each half-sample
FORMS = "synthetic[:DIR], tatoeba:DIR, xnli[:DIR], xquad[:DIR] or pairs:BASE.txt,OTHER.txt"


@dataclass(frozen=True)
class Parallel:
    name: str  # as given, e.g. "tatoeba:../shared/data/tatoeba"
    base: str  # the base language ("base", "en")
    texts: dict[str, tuple[str, ...]]  # side -> sentences (a side is embedded once, whatever pairs use it)
    pairs: dict[str, tuple[str, str]]  # language -> (base side, its side); rows aligned

    @property
    def languages(self) -> list[str]:
        return list(self.pairs)

    @property
    def shared_base(self) -> bool:
        """One base-language set pairs with every language (resample it the same way for all)."""
        return len({base for base, _ in self.pairs.values()}) == 1

    def fingerprint(self) -> str:
        return stable_hash({"texts": self.texts, "pairs": self.pairs})

    def sizes(self) -> dict[str, int]:
        return {lang: len(self.texts[side]) for lang, (_, side) in self.pairs.items()}


def parallel_source(spec: str | None, data_dir: Path | None, max_sentences: int) -> Parallel:
    """The source `spec` names (None: the study's synthetic benchmark), each language cut to its first
    `max_sentences` pairs."""
    if max_sentences < MIN_SENTENCES:
        raise XltError(f"--max {max_sentences}: the measures need at least {MIN_SENTENCES} sentences per language")
    name = spec or "synthetic"
    kind, _, argument = name.partition(":")
    if kind not in _READERS:
        raise XltError(f"--parallel {name}: unknown parallel source; use {FORMS}")
    source = _READERS[kind](name, argument, data_dir, max_sentences)
    short = {lang: n for lang, n in source.sizes().items() if n < MIN_SENTENCES}
    if short or not source.pairs:
        raise XltError(
            f"--parallel {name}: fewer than {MIN_SENTENCES} sentence pairs for "
            f"{', '.join(short) or 'every language'}; the measures need more"
        )
    return source


def _directory(name: str, argument: str, data_dir: Path | None) -> Path:
    directory = Path(argument).expanduser() if argument else data_dir
    if directory is None:
        raise XltError(f"--parallel {name}: no data directory; name one as {name}:DIR")
    if not directory.is_dir():
        raise XltError(f"--parallel {name}: {directory} is not a directory")
    return directory


def _synthetic(name: str, argument: str, data_dir: Path | None, n: int) -> Parallel:
    from xlt.data.synthetic import ANCHORS, benchmark_root, load_lexicons
    from xlt.data.synthetic_grammar import BASE, LANGUAGES, PropositionSampler, Realiser
    from xlt.data.synthetic_tasks import text

    if not argument and data_dir is None:
        raise XltError(f"no embedded benchmark to take parallel sentences from; pass --parallel ({FORMS})")
    root = benchmark_root(_directory(name, argument, data_dir), "synthetic")
    lexicons = load_lexicons(root)
    realisers = {lang: Realiser(lang, lexicons[lang]) for lang in LANGUAGES}
    sampler = PropositionSampler(random.Random("xlt-analysis"))  # a stream of its own: not the tasks' sentences
    propositions: list[list] = []
    while len(propositions) < n:
        clauses = sampler.sentence()
        words = {word for word, _ in realisers[BASE].sentence(clauses)[:-1]}  # names and numerals: alike everywhere
        if len(clauses) == 1 and not words & ANCHORS:
            propositions.append(clauses)
    texts = {lang: tuple(text(realiser.sentence(p)) for p in propositions) for lang, realiser in realisers.items()}
    return Parallel(name, BASE, texts, {lang: (BASE, lang) for lang in LANGUAGES if lang != BASE})


def _tatoeba(name: str, argument: str, data_dir: Path | None, n: int) -> Parallel:
    from xlt.data.formats import tatoeba_pairs
    from xlt.tasks.tatoeba import ISO3

    if not argument:
        raise XltError(f"--parallel {name}: name the folder of LASER's Tatoeba files as tatoeba:DIR")
    directory = _directory(name, argument, None)
    files = sorted(p for p in directory.glob("tatoeba.*-eng.*") if p.suffix != ".eng")
    if not files:
        raise XltError(f"--parallel {name}: no tatoeba.xxx-eng.xxx files in {directory}")
    two_letter = {iso3: lang for lang, iso3 in ISO3.items()}
    texts, pairs = {}, {}
    for path in files:
        code = path.suffix[1:]
        lang = two_letter.get(code, code)
        rows = tatoeba_pairs(path, "test", lang)[:n]
        texts[f"en@{lang}"] = tuple(row["query"] for row in rows)  # English is the query side
        texts[lang] = tuple(row["candidate"] for row in rows)
        pairs[lang] = (f"en@{lang}", lang)
    return Parallel(name, "en", texts, pairs)


def _index_parallel(task: str, field: str):
    """XNLI / XQuAD test sets: example i of every language translates English example i."""

    def read(name: str, argument: str, data_dir: Path | None, n: int) -> Parallel:
        from xlt.tasks import get_task

        directory = _directory(name, argument, data_dir)
        spec = get_task(task)
        languages = sorted({lang for langs in spec.languages.values() for lang in langs})
        english = [example[field] for example in spec.load("test", "en", directory)]
        keep = list({sentence: i for i, sentence in reversed(list(enumerate(english)))}.values())
        keep = sorted(keep)[:n]  # first occurrence of each English sentence (XNLI repeats each premise 3 times)
        texts = {"en": tuple(english[i] for i in keep)}
        for lang in languages:
            if lang == "en" or not spec.source.locate("test", lang, directory)[1]:
                continue  # a language whose test file is absent from the local layout
            sentences = [example[field] for example in spec.load("test", lang, directory)]
            if len(sentences) != len(english):
                raise XltError(
                    f"--parallel {name}: {task} test has {len(sentences)} examples in {lang} but "
                    f"{len(english)} in en; index-parallel sets must have the same length"
                )
            texts[lang] = tuple(sentences[i] for i in keep)
        return Parallel(name, "en", texts, {lang: ("en", lang) for lang in texts if lang != "en"})

    return read


def _pairs(name: str, argument: str, data_dir: Path | None, n: int) -> Parallel:
    paths = [Path(p).expanduser() for p in argument.split(",") if p]
    if len(paths) != 2:
        raise XltError(f"--parallel {name}: give two aligned files as pairs:BASE.txt,OTHER.txt")
    lines = []
    for path in paths:
        if not path.is_file():
            raise XltError(f"--parallel {name}: {path} does not exist")
        try:
            lines.append(path.read_text(encoding="utf-8").splitlines())
        except UnicodeDecodeError:
            raise XltError(f"--parallel {name}: {path} is not UTF-8 text") from None
    if len(lines[0]) != len(lines[1]):
        raise XltError(
            f"--parallel {name}: {paths[0]} has {len(lines[0])} lines but {paths[1]} has "
            f"{len(lines[1])}; aligned files need one translation per line"
        )
    base, lang = paths[0].stem, paths[1].stem  # the languages are named by the files: en.txt, de.txt
    if base == lang:
        raise XltError(f"--parallel {name}: both files are named {base!r}; name each by its language (en.txt,de.txt)")
    texts = {base: tuple(lines[0][:n]), lang: tuple(lines[1][:n])}
    return Parallel(name, base, texts, {lang: (base, lang)})


_READERS = {
    "synthetic": _synthetic,
    "tatoeba": _tatoeba,
    "xnli": _index_parallel("xnli", "text_a"),
    "xquad": _index_parallel("xquad", "question"),
    "pairs": _pairs,
}
