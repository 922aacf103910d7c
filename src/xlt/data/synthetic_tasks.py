"""Item generators of the synthetic tasks: (rng, realisers, lang, n) -> examples in the kind's shape.

NLI labels follow from *which* word an edit touches, never from the kind of edit: every surface edit
(substitute one word, drop one word, add one word) occurs with two or three labels, so telling them
apart needs lexical knowledge (is the new noun the class's hypernym or a sibling? is the extra word
a modifier or the negation?). A label read off the edit's shape would let a random encoder match
tokens across languages and fake transfer (a random-init encoder "transferred" at NT 0.55 on such a task).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from xlt.data.synthetic_grammar import (
    BASE,
    NOUN_CLASSES,
    NP,
    Clause,
    PropositionSampler,
    Realiser,
    clause_length,
    concepts,
    noun_class,
    with_wh,
)

NLI_LABELS = ("entailment", "neutral", "contradiction")
# (edit, label, weight): each label's edits are chosen so the edit's shape alone predicts no better
# than the majority label (substitutions are split evenly; drops and adds are half negation).
NLI_EDITS = (
    ("hypernym", "entailment", 2),
    ("hyponym", "neutral", 2),
    ("co-hyponym", "contradiction", 2),
    ("drop-modifier", "entailment", 1),
    ("add-modifier", "neutral", 1),
    ("drop-negation", "contradiction", 1),
    ("add-negation", "contradiction", 1),
)
POS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "VERB")
Generator = Callable[[random.Random, dict[str, Realiser], str, int], list[dict]]


def text(words: list[tuple[str, str]]) -> str:
    return " ".join(w for w, _ in words)


def text_lines(rng: random.Random, realiser: Realiser, n: int) -> list[str]:
    sampler = PropositionSampler(rng)
    return [text(realiser.sentence(sampler.sentence())) for _ in range(n)]


def pos_items(rng: random.Random, realisers: dict[str, Realiser], lang: str, n: int) -> list[dict]:
    sampler = PropositionSampler(rng)
    items = []
    for _ in range(n):
        words = realisers[lang].sentence(sampler.sentence())
        items.append({"tokens": [w for w, _ in words], "tags": [t for _, t in words]})
    return items


def nli_items(rng: random.Random, realisers: dict[str, Realiser], lang: str, n: int) -> list[dict]:
    sampler = PropositionSampler(rng)
    realiser = realisers[lang]
    weights = [w for _, _, w in NLI_EDITS]
    items: list[dict] = []
    while len(items) < n:
        edit, label, _ = rng.choices(NLI_EDITS, weights)[0]
        clause = replace(sampler.clause(), neg=False)
        if clause_length(clause) > 14:
            continue
        pair = _edit(sampler, clause, edit)
        if pair is None:
            continue
        premise, hypothesis = (text(realiser.sentence([c])) for c in pair)
        items.append({"text_a": premise, "text_b": hypothesis, "label": label})
    return items


def _edit(sampler: PropositionSampler, clause: Clause, edit: str) -> tuple[Clause, Clause] | None:
    """(premise, hypothesis) for one edit, or None when this clause cannot carry it."""
    rng = sampler.rng
    if edit in ("hypernym", "hyponym", "co-hyponym"):
        roles = [r for r in ("subj", "obj") if _is_noun(getattr(clause, r))]
        if not roles:
            return None
        role = rng.choice(roles)
        np = getattr(clause, role)
        cls = noun_class(np.head)
        if edit == "co-hyponym":
            siblings = [n for n in concepts()["noun"] if noun_class(n) == cls and n != np.head]
            other = replace(np, head=rng.choice(siblings))
            return clause, replace(clause, **{role: other})
        general = replace(clause, **{role: replace(np, head=f"hyper{cls}")})
        return (clause, general) if edit == "hypernym" else (general, clause)
    if edit.endswith("negation"):
        negated = replace(clause, neg=True)
        return (negated, clause) if edit == "drop-negation" else (clause, negated)
    plain, modified = _modifier_pair(sampler, clause)
    return (modified, plain) if edit == "drop-modifier" else (plain, modified)


def _is_noun(np: NP | None) -> bool:
    return np is not None and np.head.startswith("n") and noun_class(np.head) is not None


def _modifier_pair(sampler: PropositionSampler, clause: Clause) -> tuple[Clause, Clause]:
    """The clause without and with one extra modifier: an adjective, an adverb or an adpositional phrase."""
    rng = sampler.rng
    kind = rng.choice(("adj", "adv", "pp"))
    if kind == "adj" and _is_noun(clause.subj):
        plain = replace(clause, subj=replace(clause.subj, adjs=()))
        return plain, replace(plain, subj=replace(plain.subj, adjs=(rng.choice(concepts()["adj"]),)))
    if kind == "pp":
        plain = replace(clause, pp=None)
        return plain, replace(plain, pp=(sampler.zipf(concepts()["adp"]), sampler.np(rng.randrange(2, NOUN_CLASSES))))
    plain = replace(clause, adv=None)
    return plain, replace(plain, adv=sampler.zipf(concepts()["adv"]))


def qa_items(rng: random.Random, realisers: dict[str, Realiser], lang: str, n: int) -> list[dict]:
    """A three-sentence context; the question restates one clause with "who"/"what" in place of an argument."""
    sampler = PropositionSampler(rng)
    realiser = realisers[lang]
    items: list[dict] = []
    while len(items) < n:
        clauses = [replace(sampler.clause(), conj=None) for _ in range(3)]
        if len({c.verb for c in clauses}) < 3 or sum(clause_length(c) for c in clauses) > 36:
            continue
        target = rng.randrange(3)
        clause = clauses[target]
        role = rng.choice(("subj", "obj") if clause.obj else ("subj",))
        context, start = "", 0
        for i, c in enumerate(clauses):
            words, spans = realiser.clause(c)
            if i == target:
                before = text(words[: spans[role][0]])
                start = len(context) + len(before) + (1 if before else 0)
                answer = text(words[slice(*spans[role])])
            context += text(words + [(".", "PUNCT")]) + " "
        asked = with_wh(getattr(clause, role))
        asking = replace(clause, subj=asked) if role == "subj" else replace(clause, obj=asked)
        question = text(realiser.sentence([asking], end="?"))
        items.append({"context": context.strip(), "question": question,
                      "answers": [{"text": answer, "answer_start": start}]})  # fmt: skip
    return items


def retrieval_items(rng: random.Random, realisers: dict[str, Realiser], lang: str, n: int) -> list[dict]:
    """Parallel sentences: query in `lang`, candidate its base-language translation (as Tatoeba)."""
    sampler = PropositionSampler(rng)
    items = []
    for _ in range(n):
        clauses = sampler.sentence()
        items.append({"query": text(realisers[lang].sentence(clauses)),
                      "candidate": text(realisers[BASE].sentence(clauses))})  # fmt: skip
    return items


GENERATORS: dict[str, Generator] = {
    "synth-pos": pos_items,
    "synth-nli": nli_items,
    "synth-qa": qa_items,
    "synth-retrieval": retrieval_items,
}
