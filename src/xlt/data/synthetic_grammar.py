"""The synthetic languages: one grammar over language-independent propositions, realised per language.

A proposition (`Clause`) holds concepts, never words. Each language is data (`LANGUAGES`): a script,
a constituent order, where adjectives and adpositions go, and whether tense, plural and object case
are suffixes. Its lexicon maps every concept to a word drawn from its own syllables; a word is never
reused by another language, so the only surface forms languages share are the anchors (numerals,
proper names, punctuation). Concept frequencies are Zipfian, as in natural text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import cache
from itertools import accumulate

NOUN_CLASSES = 6
NOUNS_PER_CLASS = 12
ANIMATE = (0, 1)  # classes that can be subjects (people, animals) and that "who" asks about
N_VERBS, N_INTRANSITIVE = 30, 10
N_ADJECTIVES, N_ADVERBS, N_ADPOSITIONS, N_DETERMINERS, N_PRONOUNS, N_CONJUNCTIONS = 24, 10, 10, 5, 5, 3
PLURAL_DETERMINERS = ("det3", "det4")
NUMERALS = tuple(str(n) for n in range(2, 13))
NAMES = ("Anna", "Omar", "Lena", "Ivan", "Maya", "Kofi", "Sara", "Ravi", "Nora", "Yuki",
         "Tomas", "Amir", "Eva", "Juan", "Mei", "Olga", "Pablo", "Zara", "Hugo", "Ines")  # fmt: skip

# Each language is data: the report prints these; `realise` follows them.
LANGUAGES: dict[str, dict[str, str]] = {
    "base": dict(script="Latin", order="SVO", adjective="before noun", adposition="preposition", morphology="none"),
    "swap": dict(script="Latin", order="SVO", adjective="before noun", adposition="preposition", morphology="none"),
    "cyrl": dict(script="Cyrillic", order="SVO", adjective="before noun", adposition="preposition", morphology="none"),
    "adjn": dict(script="Greek", order="SVO", adjective="after noun", adposition="preposition", morphology="none"),
    "sov": dict(script="Latin", order="SOV", adjective="before noun", adposition="postposition", morphology="none"),
    "sovm": dict(script="Georgian", order="SOV", adjective="before noun", adposition="postposition", morphology="suffixes"),  # noqa: E501
    "vsom": dict(script="Armenian", order="VSO", adjective="after noun", adposition="preposition", morphology="suffixes"),  # noqa: E501
}  # fmt: skip
BASE = "base"
SUFFIXES = ("plural", "object", "past", "future")  # what "suffixes" marks; analytic languages use words

# (consonants, vowels) per language; the three Latin languages use disjoint consonants so they look apart.
_SYLLABLES = {
    "base": ("ptkmnls", "aeiou"),
    "swap": ("bdgrvzh", "aeiou"),
    "cyrl": ("птклмнсбдгрвз", "аеиоу"),
    "adjn": ("πτκμνλσβδγρζ", "αειου"),
    "sov": ("fjwcxqy", "aeiou"),
    "sovm": ("პტკმნლსბდგრვზ", "აეიოუ"),
    "vsom": ("պտկմնլսբդգրվզ", "աեիոը"),
}


def concepts() -> dict[str, tuple[str, ...]]:
    """Concept ids by category; hypernyms (`hyper{c}`) are the generic noun of each class."""
    return {
        "noun": tuple(f"n{c}.{i}" for c in range(NOUN_CLASSES) for i in range(NOUNS_PER_CLASS)),
        "hyper": tuple(f"hyper{c}" for c in range(NOUN_CLASSES)),
        "verb": tuple(f"verb{i}" for i in range(N_VERBS)),
        "adj": tuple(f"adj{i}" for i in range(N_ADJECTIVES)),
        "adv": tuple(f"adv{i}" for i in range(N_ADVERBS)),
        "adp": tuple(f"adp{i}" for i in range(N_ADPOSITIONS)),
        "det": tuple(f"det{i}" for i in range(N_DETERMINERS)),
        "pron": tuple(f"pron{i}" for i in range(N_PRONOUNS)),
        "conj": tuple(f"conj{i}" for i in range(N_CONJUNCTIONS)),
        "function": ("neg", "past", "future", "who", "what"),
    }


def build_lexicons(seed: int) -> dict[str, dict[str, str]]:
    """concept -> word for every language (suffix morphemes under "-plural" etc. where morphological)."""
    rng = random.Random(f"lexicon-{seed}")
    used = set(NAMES) | set(NUMERALS)
    lexicons = {}
    for lang, props in LANGUAGES.items():
        lexicon = {}
        for category, ids in concepts().items():
            short = category in ("adp", "det", "pron", "conj", "function")
            for concept in ids:
                lexicon[concept] = _new_word(rng, lang, (1, 2) if short else (2, 3), used)
        if props["morphology"] == "suffixes":
            for suffix in SUFFIXES:
                lexicon[f"-{suffix}"] = _new_word(rng, lang, (1, 1), used)
        lexicons[lang] = lexicon
    return lexicons


def _new_word(rng: random.Random, lang: str, syllables: tuple[int, int], used: set[str]) -> str:
    consonants, vowels = _SYLLABLES[lang]
    while True:
        n = rng.randint(*syllables)
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(n))
        if word not in used:
            used.add(word)
            return word


@dataclass(frozen=True)
class NP:
    head: str  # a noun, hypernym, pronoun or proper-name concept
    det: str | None = None
    num: str | None = None
    adjs: tuple[str, ...] = ()

    @property
    def plural(self) -> bool:
        return self.num is not None or self.det in PLURAL_DETERMINERS


@dataclass(frozen=True)
class Clause:
    subj: NP
    verb: str
    obj: NP | None = None
    pp: tuple[str, NP] | None = None  # (adposition, its noun phrase)
    adv: str | None = None
    neg: bool = False
    tense: str = "present"
    conj: str | None = None  # the conjunction joining this clause to the previous one


def noun_class(head: str) -> int | None:
    if head.startswith("hyper"):
        return int(head[5:])
    if head.startswith("n") and "." in head:
        return int(head[1 : head.index(".")])
    if head in NAMES or head.startswith("pron"):
        return 0
    return None


@cache
def _zipf_cumulative(n: int) -> list[float]:
    """Running sums of the weights 1 / rank: what `random.choices(weights=...)` computes on every call (the same
    floats, so the same draws), once per length."""
    return list(accumulate(1 / (r + 1) for r in range(n)))


class PropositionSampler:
    """Draws random clauses with Zipfian concept frequencies; verbs select their arguments' classes."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        c = concepts()
        self.c = c
        # verb i: intransitive for the first N_INTRANSITIVE; otherwise it selects one object class.
        self.object_class = {v: (None if i < N_INTRANSITIVE else i % NOUN_CLASSES) for i, v in enumerate(c["verb"])}

    def zipf(self, items) -> str:
        return self.rng.choices(items, cum_weights=_zipf_cumulative(len(items)))[0]

    def noun(self, cls: int) -> str:
        return self.zipf(self.c["noun"][cls * NOUNS_PER_CLASS : (cls + 1) * NOUNS_PER_CLASS])

    def np(self, cls: int, allow_pronoun: bool = False, max_adjs: int = 1) -> NP:
        r = self.rng.random()
        if cls == 0 and allow_pronoun and r < 0.15:
            return NP(self.zipf(self.c["pron"]))
        if cls == 0 and r < 0.3:
            return NP(self.rng.choice(NAMES))
        head = f"hyper{cls}" if self.rng.random() < 0.08 else self.noun(cls)
        num = self.rng.choice(NUMERALS) if self.rng.random() < 0.12 else None
        det = self.zipf(self.c["det"]) if self.rng.random() < 0.75 else None
        n_adjs = self.rng.choices(range(max_adjs + 1), weights=[0.6] + [0.4 / max_adjs] * max_adjs)[0]
        return NP(head, det, num, tuple(self.rng.sample(self.c["adj"], n_adjs)))

    def clause(self) -> Clause:
        rng = self.rng
        verb = self.zipf(self.c["verb"])
        subj = self.np(rng.choice(ANIMATE), allow_pronoun=True)
        cls = self.object_class[verb]
        obj = self.np(cls) if cls is not None else None
        pp = (self.zipf(self.c["adp"]), self.np(rng.randrange(2, NOUN_CLASSES))) if rng.random() < 0.4 else None
        adv = self.zipf(self.c["adv"]) if rng.random() < 0.3 else None
        tense = rng.choices(("present", "past", "future"), weights=(0.5, 0.3, 0.2))[0]
        return Clause(subj, verb, obj, pp, adv, neg=rng.random() < 0.15, tense=tense)

    def sentence(self, min_words: int = 5, max_words: int = 25) -> list[Clause]:
        while True:
            clauses = [self.clause()]
            if self.rng.random() < 0.35:
                clauses.append(replace(self.clause(), conj=self.zipf(self.c["conj"])))
            length = sum(clause_length(c) + 2 * (c.conj is not None) for c in clauses) + 1
            if min_words <= length <= max_words:
                return clauses


def clause_length(c: Clause) -> int:
    nps = [c.subj] + ([c.obj] if c.obj else []) + ([c.pp[1]] if c.pp else [])
    words = sum(1 + (n.det is not None) + (n.num is not None) + len(n.adjs) for n in nps)
    return words + 1 + (c.pp is not None) + (c.adv is not None) + c.neg + (c.tense != "present")


Word = tuple[str, str]  # (surface form, POS tag)


class Realiser:
    """Words and POS tags of propositions in one language; also the word spans of each role."""

    def __init__(self, lang: str, lexicon: dict[str, str]):
        self.props = LANGUAGES[lang]
        self.lex = lexicon
        self.suffixing = self.props["morphology"] == "suffixes"

    def word(self, concept: str) -> str:
        return concept if concept in NAMES or concept in NUMERALS else self.lex[concept]

    def np(self, np: NP, is_object: bool = False) -> list[Word]:
        head = np.head
        if head.startswith("pron"):
            tag = "PRON"
        elif head in NAMES:
            tag = "PROPN"
        elif head in ("who", "what"):
            tag = "PRON"
        else:
            tag = "NOUN"
        form = self.word(head)
        if self.suffixing and tag == "NOUN" and np.plural:
            form += self.lex["-plural"]
        if self.suffixing and is_object:
            form += self.lex["-object"]
        adjs = [(self.word(a), "ADJ") for a in np.adjs]
        noun = [(form, tag)]
        words = [(self.word(np.det), "DET")] if np.det else []
        words += [(np.num, "NUM")] if np.num else []
        return words + (adjs + noun if self.props["adjective"] == "before noun" else noun + adjs)

    def verb_group(self, c: Clause) -> list[Word]:
        verb = self.word(c.verb)
        neg = [(self.word("neg"), "PART")] if c.neg else []
        if self.suffixing:
            suffix = self.lex[f"-{c.tense}"] if c.tense != "present" else ""
            return neg + [(verb + suffix, "VERB")]
        aux = [(self.word(c.tense), "AUX")] if c.tense != "present" else []
        if self.props["order"] == "SOV":
            return neg + [(verb, "VERB")] + aux
        return neg + aux + [(verb, "VERB")]

    def clause(self, c: Clause) -> tuple[list[Word], dict[str, tuple[int, int]]]:
        parts: dict[str, list[Word]] = {"subj": self.np(c.subj), "verb": self.verb_group(c)}
        parts["obj"] = self.np(c.obj, is_object=True) if c.obj else []
        if c.pp:
            adp, np = [(self.word(c.pp[0]), "ADP")], self.np(c.pp[1])
            parts["pp"] = adp + np if self.props["adposition"] == "preposition" else np + adp
        else:
            parts["pp"] = []
        parts["adv"] = [(self.word(c.adv), "ADV")] if c.adv else []
        order = {
            "SVO": ("subj", "verb", "obj", "pp", "adv"),
            "SOV": ("subj", "pp", "obj", "adv", "verb"),
            "VSO": ("verb", "subj", "obj", "pp", "adv"),
        }[self.props["order"]]
        words: list[Word] = []
        spans = {}
        for role in order:
            spans[role] = (len(words), len(words) + len(parts[role]))
            words += parts[role]
        return words, spans

    def sentence(self, clauses: list[Clause], end: str = ".") -> list[Word]:
        words: list[Word] = []
        for c in clauses:
            if c.conj:
                words += [(",", "PUNCT"), (self.word(c.conj), "CCONJ")]
            words += self.clause(c)[0]
        return words + [(end, "PUNCT")]


def with_wh(np: NP) -> NP:
    """The question word standing for a noun phrase ("who" for people and animals, else "what")."""
    return NP("who" if noun_class(np.head) in ANIMATE else "what")
