"""Train an XLM-R-style tokenizer (Unigram or BPE over Metaspace pieces, XLM-R special tokens) on the fly.

Used by `xlt pretrain` and by the tests, which never download a tokenizer. The result is a fast
tokenizer (offset mappings) that `AutoTokenizer.from_pretrained` reloads from its directory.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # XLM-R's ids: <s>=0, <pad>=1, </s>=2, <unk>=3


def train_tokenizer(
    lines: Iterable[str], vocab_size: int = 2000, algorithm: str = "unigram"
) -> PreTrainedTokenizerFast:
    """`algorithm` "bpe" keeps frequent words whole on a small closed vocabulary, where the Unigram
    trainer of `tokenizers` was measured to cut even frequent words into syllables."""
    trainer: trainers.Trainer
    if algorithm == "bpe":
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False)
    elif algorithm == "unigram":
        tok = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>", show_progress=False
        )
    else:
        raise ValueError(f"tokenizer algorithm {algorithm!r} is not 'unigram' or 'bpe'")
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(lines, trainer=trainer)
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=512,
    )
