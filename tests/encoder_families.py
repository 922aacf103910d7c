"""Tiny random encoders of every family, each with a tokenizer of its own kind trained on the fly.

The tokenizers copy what each family's published tokenizer is made of (model, pre-tokenizer, special tokens and
their ids, single and pair templates); nothing is downloaded:

- bert (mBERT): WordPiece, [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, "[CLS] A [SEP] B [SEP]", segment B type 1;
- xlm-roberta and xlm-roberta-xl: SentencePiece unigram, <s>=0 <pad>=1 </s>=2 <unk>=3, "<s> A </s></s> B </s>"
  (xlt.data.tokenizer);
- deberta-v2 (mDeBERTa-v3): SentencePiece unigram, [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3, "[CLS] A [SEP] B [SEP]";
- modernbert (mmBERT, Gemma 2's tokenizer): SentencePiece-style BPE with byte fallback, <pad>=0 <eos>=1 <bos>=2
  <unk>=3, "<bos> A <eos> B <eos>";
- eurobert (Llama 3's tokenizer): byte-level BPE, <|begin_of_text|> <|end_of_text|> <|mask|> <|pad|>,
  "<|begin_of_text|> A <|end_of_text|> B <|end_of_text|>".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from xlt.data.tokenizer import train_tokenizer

TINY = {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4, "intermediate_size": 48}


def _wrap(tok: Tokenizer, single: str, pair: str, specials: dict[str, str]) -> transformers.PreTrainedTokenizerFast:
    ids = {token: tok.token_to_id(token) for token in set(specials.values()) if token in single + pair}
    tok.post_processor = processors.TemplateProcessing(single=single, pair=pair, special_tokens=list(ids.items()))
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=512, **specials)


def wordpiece(lines: list[str], vocab_size: int) -> transformers.PreTrainedTokenizerFast:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(lines, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials))
    return _wrap(
        tok,
        "[CLS] $A [SEP]",
        "[CLS] $A [SEP] $B:1 [SEP]:1",
        {
            "pad_token": "[PAD]",
            "unk_token": "[UNK]",
            "cls_token": "[CLS]",
            "sep_token": "[SEP]",
            "mask_token": "[MASK]",
        },
    )


def sentencepiece_cls_sep(lines: list[str], vocab_size: int) -> transformers.PreTrainedTokenizerFast:
    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="[UNK]")
    tok.train_from_iterator(lines, trainer)
    return _wrap(
        tok,
        "[CLS] $A [SEP]",
        "[CLS] $A [SEP] $B [SEP]",
        {
            "pad_token": "[PAD]",
            "unk_token": "[UNK]",
            "cls_token": "[CLS]",
            "sep_token": "[SEP]",
            "mask_token": "[MASK]",
        },
    )


def gemma_bpe(lines: list[str], vocab_size: int) -> transformers.PreTrainedTokenizerFast:
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.normalizer = normalizers.Replace(" ", "▁")  # Gemma's: spaces become ▁, no pre-tokenizer splits words
    tok.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    byte_pieces = [f"<0x{i:02X}>" for i in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size + 256, special_tokens=specials + byte_pieces)
    tok.train_from_iterator(lines, trainer)
    return _wrap(
        tok,
        "<bos> $A <eos>",
        "<bos> $A <eos> $B <eos>",
        {
            "pad_token": "<pad>",
            "unk_token": "<unk>",
            "bos_token": "<bos>",
            "eos_token": "<eos>",
            "cls_token": "<bos>",
            "sep_token": "<eos>",
            "mask_token": "<mask>",
        },
    )


def llama_byte_bpe(lines: list[str], vocab_size: int) -> transformers.PreTrainedTokenizerFast:
    bos, eos = "<|begin_of_text|>", "<|end_of_text|>"
    specials = [bos, eos, "<|mask|>", "<|pad|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(lines, trainer)
    return _wrap(
        tok,
        f"{bos} $A {eos}",
        f"{bos} $A {eos} $B {eos}",
        {
            "bos_token": bos,
            "eos_token": eos,
            "cls_token": bos,
            "sep_token": eos,
            "mask_token": "<|mask|>",
            "pad_token": "<|pad|>",
        },
    )


def _bert(tokenizer):
    return transformers.BertModel(
        transformers.BertConfig(
            vocab_size=len(tokenizer), max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id, **TINY
        )
    )


def _xlmr_shaped(model_class, config_class):
    """A builder of a tiny XLM-R-shaped model (XLM-R and XLM-R XL share the config fields)."""

    def build(tokenizer):
        return model_class(
            config_class(
                vocab_size=len(tokenizer),
                max_position_embeddings=130,
                pad_token_id=tokenizer.pad_token_id,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                type_vocab_size=1,
                **TINY,
            )
        )

    return build


_xlmr = _xlmr_shaped(transformers.XLMRobertaModel, transformers.XLMRobertaConfig)
_xlmr_xl = _xlmr_shaped(transformers.XLMRobertaXLModel, transformers.XLMRobertaXLConfig)


def _deberta(tokenizer):
    # mDeBERTa-v3-base's shape in small: relative attention over log buckets, shared position projections,
    # layer-normed relative embeddings, no absolute positions, no token types
    return transformers.DebertaV2Model(
        transformers.DebertaV2Config(
            vocab_size=len(tokenizer),
            max_position_embeddings=128,
            relative_attention=True,
            position_buckets=8,
            pos_att_type=["p2c", "c2p"],
            share_att_key=True,
            norm_rel_ebd="layer_norm",
            position_biased_input=False,
            type_vocab_size=0,
            pad_token_id=tokenizer.pad_token_id,
            **TINY,
        )
    )


def _modernbert(tokenizer):
    # mmBERT's shape in small: global attention every third layer, local windows elsewhere (here 4 wide)
    return transformers.ModernBertModel(
        transformers.ModernBertConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=128,
            local_attention=4,
            global_attn_every_n_layers=3,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            cls_token_id=tokenizer.cls_token_id,
            sep_token_id=tokenizer.sep_token_id,
            **TINY,
        )
    )


def _eurobert(tokenizer):
    # grouped-query attention as EuroBERT's: 4 query heads share 2 key-value heads
    return transformers.EuroBertModel(
        transformers.EuroBertConfig(
            vocab_size=len(tokenizer),
            max_position_embeddings=128,
            num_key_value_heads=2,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            mask_token_id=tokenizer.mask_token_id,
            **TINY,
        )
    )


@dataclass(frozen=True)
class Kind:
    tokenizer: Callable[[list[str], int], transformers.PreTrainedTokenizerFast]
    model: Callable[[transformers.PreTrainedTokenizerFast], torch.nn.Module]


def _xlmr_tokenizer(lines: list[str], vocab_size: int):
    return train_tokenizer(lines, vocab_size=vocab_size)


FAMILIES = {
    "bert": Kind(wordpiece, _bert),
    "xlm-roberta": Kind(_xlmr_tokenizer, _xlmr),
    "xlm-roberta-xl": Kind(_xlmr_tokenizer, _xlmr_xl),
    "deberta-v2": Kind(sentencepiece_cls_sep, _deberta),
    "modernbert": Kind(gemma_bpe, _modernbert),
    "eurobert": Kind(llama_byte_bpe, _eurobert),
}


def build(family: str, lines: list[str], vocab_size: int = 300, seed: int = 0):
    """(tokenizer, random backbone in eval mode) of `family`."""
    kind = FAMILIES[family]
    tokenizer = kind.tokenizer(lines, vocab_size)
    torch.manual_seed(seed)
    return tokenizer, kind.model(tokenizer).eval()
