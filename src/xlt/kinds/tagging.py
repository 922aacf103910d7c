"""Word-level tagging (UD-POS, WikiANN NER): first-subword labelling, long sentences split into windows.

As XTREME does (and jiant does not), a sentence longer than the input limit is split between words
into several features, and the predictions are merged back so every gold word gets exactly one.

Examples: {"id", "tokens": [str, ...], "tags": [str, ...]}. A prediction is the sentence's tag list;
submissions hold one tag a line and a blank line after each sentence.
"""

from __future__ import annotations

import bisect
from typing import ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from xlt.kinds.base import HeadOptions, Kind, register
from xlt.kinds.common import collate, feature_rows, label_id, last_hidden, most_common
from xlt.methods.base import Encoder

IGNORE = -100  # label of subwords after the first, specials and padding (cross-entropy skips it)


class TokenHead(nn.Module):
    def __init__(self, encoder: Encoder, num_labels: int, options: HeadOptions):
        super().__init__()
        self.dropout = nn.Dropout(options.dropout)
        self.classifier = nn.Linear(encoder.hidden_size, num_labels)

    def forward(self, encoder: Encoder, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = last_hidden(encoder, batch)
        return self.classifier(self.dropout(hidden))


def word_pieces(tokenizer, sentences: list[list[str]]) -> list[list[list[int]]]:
    """Subword ids of each word of each sentence, tokenized as running text (the words joined by spaces) so every
    kind of tokenizer marks word starts as in pretraining (a byte-level BPE's leading-space tokens included); a
    token belongs to the first word that ends after it starts (a lone word-start piece joins the word after it).
    A word the tokenizer drops entirely becomes <unk> so it keeps a slot (and a prediction)."""
    texts, spans = zip(*(_joined(words) for words in sentences)) if sentences else ((), ())
    encoded = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
    result = []
    for ids, offsets, ends in zip(encoded["input_ids"], encoded["offset_mapping"], spans):
        pieces: list[list[int]] = [[] for _ in ends]
        for token_id, (start, _) in zip(ids, offsets):
            pieces[min(bisect.bisect_right(ends, start), len(ends) - 1)].append(token_id)
        result.append([p or [tokenizer.unk_token_id] for p in pieces])
    return result


def _joined(words: list[str]) -> tuple[str, list[int]]:
    """The sentence as text and where each word ends in it."""
    ends, position = [], -1
    for word in words:
        position += 1 + len(word)
        ends.append(position)
    return " ".join(words), ends


def frame(tokenizer) -> tuple[list[int], list[int]]:
    """The special tokens the tokenizer's own template puts before and after a single sequence."""
    encoded = tokenizer([["x"]], is_split_into_words=True)
    ids, words = encoded["input_ids"][0], encoded.word_ids(0)
    first, last = words.index(0), len(words) - 1 - words[::-1].index(0)
    return ids[:first], ids[last + 1 :]


def windows(pieces: list[list[int]], budget: int) -> list[tuple[int, int]]:
    """Greedy (start, end) word ranges whose subwords fit in `budget`; a word longer than the whole
    budget gets a window of its own and keeps only its first `budget` subwords (its label survives)."""
    spans, start, used = [], 0, 0
    for index, word in enumerate(pieces):
        size = min(len(word), budget)
        if used + size > budget:
            spans.append((start, index))
            start, used = index, 0
        used += size
    spans.append((start, len(pieces)))
    return spans


class Tagging(Kind):
    name: ClassVar[str] = "tagging"
    # f1 with seqeval 0.0.12 semantics (what XTREME published), then current seqeval's and token accuracy
    metrics: ClassVar[tuple[str, ...]] = ("f1", "precision", "recall", "f1_seqeval_1_2", "accuracy")
    scorer: ClassVar[str] = "tagging"
    submission: ClassVar[str] = "tags"

    def featurize(self, examples, tokenizer, spec, max_length):
        before, after = frame(tokenizer)
        budget = max_length - len(before) - len(after)
        features = []
        sentences = word_pieces(tokenizer, [example["tokens"] for example in examples])
        for index, (example, pieces) in enumerate(zip(examples, sentences)):
            tags = example.get("tags")
            where = f"example {example.get('id', index)!r}"
            tag_ids = None if tags is None else [label_id(tag, spec, where) for tag in tags]
            for start, end in windows(pieces, budget):
                features.append(self._window((before, after), index, pieces, tag_ids, start, end, budget))
        return features

    @staticmethod
    def _window(specials, index, pieces, tag_ids, start, end, budget) -> dict:
        before, after = specials
        input_ids, word_index = list(before), [-1] * len(before)
        for word in range(start, end):
            kept = pieces[word][:budget]
            input_ids += kept
            word_index += [word] + [-1] * (len(kept) - 1)  # first-subword rule
        input_ids += after
        word_index += [-1] * len(after)
        feature = {"example_index": index, "input_ids": input_ids, "attention_mask": [1] * len(input_ids)}
        feature["word_index"] = word_index  # decoding only: the word each first subword labels
        if tag_ids is not None:
            feature["labels"] = [IGNORE if w < 0 else tag_ids[w] for w in word_index]
        return feature

    def collate(self, features):
        return collate(features, {"input_ids": 0, "attention_mask": 0, "labels": IGNORE})

    def build_head(self, encoder, spec, options):
        return TokenHead(encoder, len(spec.labels), options)

    def loss(self, outputs, batch):
        return F.cross_entropy(outputs.flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE)

    def loss_terms(self, features):
        return sum(label != IGNORE for feature in features for label in feature["labels"])

    def decode(self, outputs, features, examples, spec):
        predictions = [[None] * len(example["tokens"]) for example in examples]
        for feature, logits in feature_rows(outputs, features):
            tags = predictions[feature["example_index"]]
            best = logits[: len(feature["word_index"])].argmax(-1).tolist()
            for word, tag in zip(feature["word_index"], best):
                if word >= 0:
                    tags[word] = spec.labels[tag]
        return predictions

    def gold(self, example, spec):
        return list(example["tags"])

    def majority(self, train_examples, examples, spec):
        """The most frequent training tag for every word: the chance level that scores are read against
        (a per-word lookup would be a lexical baseline, and near-perfect on the synthetic languages)."""
        overall = most_common(tag for example in train_examples for tag in example["tags"])
        return [[overall] * len(example["tokens"]) for example in examples]


register(Tagging())
