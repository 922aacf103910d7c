"""Every encoder family under every method: deep prompts against an eager reference of the family's attention with
the prefix concatenated, prompt length 0 against the plain encoder, trainable counts against the formula."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from conftest import TINY_TEXT
from encoder_families import FAMILIES, build
from xlt.data.features import cached_features
from xlt.encoders import family_of
from xlt.errors import XltError
from xlt.kinds import get_kind
from xlt.kinds.common import TOKEN_TYPES
from xlt.kinds.tagging import IGNORE
from xlt.methods import get_method
from xlt.methods.common import BackboneEncoder
from xlt.model import TaskModel
from xlt.tasks.spec import TaskSpec

torch.set_num_threads(2)

NAMES = list(FAMILIES)
PROMPTS = ("deep_prompt", "shallow_prompt")


@pytest.fixture(scope="module", params=NAMES)
def family(request):
    """(name, tokenizer, backbone) of each family; deep-copy the backbone before changing it."""
    tokenizer, backbone = build(request.param, TINY_TEXT * 20)
    return request.param, tokenizer, backbone


def adapt(backbone, method: str, **options):
    torch.manual_seed(0)
    cls = get_method(method)
    return cls().adapt(copy.deepcopy(backbone), cls.Options(**options)).eval()


def padded_batch(tokenizer, lengths=(9, 5, 7)):
    """Random token ids (specials excluded) right-padded with the tokenizer's pad id."""
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(
        len(tokenizer.all_special_ids), len(tokenizer), (len(lengths), max(lengths)), generator=generator
    )
    attention_mask = torch.zeros_like(input_ids)
    for row, length in enumerate(lengths):
        attention_mask[row, :length] = 1
    return input_ids.masked_fill(attention_mask == 0, tokenizer.pad_token_id), attention_mask


def test_each_family_is_found_by_model_type(family):
    name, _, backbone = family
    assert family_of(backbone).name == name


def test_a_model_type_without_family_is_refused_in_one_line():
    class Unknown:
        class config:
            model_type = "gpt2"

    with pytest.raises(XltError, match="no encoder family for model type 'gpt2'") as error:
        family_of(Unknown())
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("method", PROMPTS)
def test_prompt_length_zero_equals_the_plain_encoder(family, method):
    _, tokenizer, backbone = family
    input_ids, attention_mask = padded_batch(tokenizer)
    ours = adapt(backbone, method, prompt_length=0)(input_ids, attention_mask, output_hidden_states=True)
    with torch.no_grad():
        plain = backbone(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    real = attention_mask.bool()
    torch.testing.assert_close(ours.last_hidden_state[real], plain.last_hidden_state[real], atol=1e-5, rtol=0)
    assert len(ours.hidden_states) == len(plain.hidden_states)
    for mine, theirs in zip(ours.hidden_states, plain.hidden_states, strict=True):
        torch.testing.assert_close(mine[real], theirs[real], atol=1e-5, rtol=0)


@pytest.mark.parametrize("method", PROMPTS)
def test_prompts_change_the_output_and_padding_does_not(family, method):
    _, tokenizer, backbone = family
    input_ids, attention_mask = padded_batch(tokenizer)
    encoder = adapt(backbone, method, prompt_length=3)
    with torch.no_grad():
        batched = encoder(input_ids, attention_mask).last_hidden_state
        plain = backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        for row, length in enumerate(attention_mask.sum(1).tolist()):
            alone = encoder(input_ids[row : row + 1, :length], attention_mask[row : row + 1, :length])
            torch.testing.assert_close(batched[row, :length], alone.last_hidden_state[0], atol=1e-5, rtol=0)
    real = attention_mask.bool()
    assert (batched[real] - plain[real]).abs().max() > 1e-3


def test_trainable_count_is_two_layers_prompt_length_kv_width(family):
    _, _, backbone = family
    config = backbone.config
    head_dim = config.hidden_size // config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    encoder = adapt(backbone, "deep_prompt", prompt_length=5)
    trainable = sum(p.numel() for p in encoder.parameters() if p.requires_grad)
    assert trainable == 2 * config.num_hidden_layers * 5 * kv_heads * head_dim


@pytest.mark.parametrize("method", ["finetune", "deep_prompt", "shallow_prompt", "lora"])
def test_every_method_trains_on_every_family(family, method):
    """One optimizer step moves the output, and the gradient reaches only what the method trains."""
    _, tokenizer, backbone = family
    input_ids, attention_mask = padded_batch(tokenizer)
    encoder = adapt(backbone, method).train()
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    assert trainable and (method == "finetune" or len(trainable) < len(list(encoder.parameters())))
    before = encoder.eval()(input_ids, attention_mask).last_hidden_state.detach()
    encoder.train()
    direction = torch.randn(before.shape, generator=torch.Generator().manual_seed(1))  # normed outputs: no square
    (encoder(input_ids, attention_mask).last_hidden_state * direction)[attention_mask.bool()].sum().backward()
    unused = {p for name, p in encoder.named_parameters() if "pooler" in name}  # heads pool, this test does not
    assert all(p.grad is not None for p in trainable if p not in unused)
    assert all(p.grad is None for p in encoder.parameters() if not p.requires_grad)
    torch.optim.SGD(trainable, lr=1.0).step()
    after = encoder.eval()(input_ids, attention_mask).last_hidden_state.detach()
    assert (after - before)[attention_mask.bool()].abs().max() > 1e-6


@pytest.mark.parametrize("shift", [False, True])
def test_deep_prompts_match_an_eager_reference_of_the_family(family, shift):
    name, tokenizer, backbone = family
    input_ids, attention_mask = padded_batch(tokenizer)
    encoder = adapt(backbone, "deep_prompt", prompt_length=4, shift_positions=shift)
    with torch.no_grad():
        ours = encoder(input_ids, attention_mask).last_hidden_state
        table = encoder.prompts()
        theirs = REFERENCES[name](backbone, table, input_ids, attention_mask, 4 if shift else 0)
    real = attention_mask.bool()
    torch.testing.assert_close(ours[real], theirs[real], atol=1e-5, rtol=0)


def _spec(kind: str, **extra) -> TaskSpec:
    return TaskSpec(
        name=f"toy_{kind}",
        kind=kind,
        metrics=("f1",),
        scorer=kind,
        languages={"toy": ("en",)},
        load=lambda split, lang, data_dir: [],
        **extra,
    )


def test_tagging_labels_each_words_first_subword_within_the_tokenizers_own_specials(family):
    """The pieces are the tokenizer's own for the running text (a byte-level BPE's leading-space tokens included),
    between the specials its template puts around a single sequence, and every word's pieces (from its labelled
    first subword to the next) decode back to the word."""
    _, tokenizer, _ = family
    spec = _spec("tagging", labels=("W",))
    examples = [
        {"id": str(i), "tokens": text.split(), "tags": ["W"] * len(text.split())} for i, text in enumerate(TINY_TEXT)
    ]
    template = tokenizer("x")["input_ids"]
    x = tokenizer("x", add_special_tokens=False)["input_ids"]
    before, after = template[: template.index(x[0])], template[template.index(x[-1]) + 1 :]
    for feature, example in zip(get_kind("tagging").featurize(examples, tokenizer, spec, 64), examples, strict=True):
        ids, labels = feature["input_ids"], feature["labels"]
        assert ids[: len(before)] == before and ids[len(ids) - len(after) :] == after and before + after
        assert (
            ids[len(before) : len(ids) - len(after)]
            == tokenizer(TINY_TEXT[int(example["id"])], add_special_tokens=False)["input_ids"]
        )
        starts = [i for i, label in enumerate(labels) if label != IGNORE] + [len(ids) - len(after)]
        words = [tokenizer.decode(ids[a:b]).strip() for a, b in zip(starts, starts[1:])]
        assert words == example["tokens"]


def test_qa_answers_are_found_and_decoded_through_each_tokenizers_offsets(family):
    _, tokenizer, _ = family
    qa = get_kind("qa")
    spec = _spec("qa", settings={"doc_stride": 8})
    context = " ".join(TINY_TEXT)
    examples = [
        {
            "id": str(i),
            "question": "what is it ?",
            "context": context,
            "answers": [{"text": answer, "answer_start": context.index(answer)}],
        }
        for i, answer in enumerate(["lazy dog", "345", "Omar", "faulen"])
    ]
    features = qa.featurize(examples, tokenizer, spec, max_length=40)
    assert all(len(f["input_ids"]) <= 40 for f in features)
    outputs = []
    for feature in features:  # perfect logits on each window's gold span (the first token where it holds none)
        logits = torch.zeros(len(feature["input_ids"]), 2)
        logits[feature["start_positions"], 0] = logits[feature["end_positions"], 1] = 5.0
        outputs.append(logits)
    assert qa.decode(outputs, features, examples, spec) == ["lazy dog", "345", "Omar", "faulen"]


def test_pairs_are_encoded_in_the_tokenizers_own_layout(family):
    """Sentence pairs (NLI) keep the tokenizer's template: the specials it adds, and both texts."""
    _, tokenizer, _ = family
    spec = _spec("pair_classification", labels=("yes", "no"))
    example = {"id": "0", "text_a": TINY_TEXT[0], "text_b": TINY_TEXT[1], "label": "yes"}
    feature = get_kind("pair_classification").featurize([example], tokenizer, spec, 128)[0]
    expected = tokenizer(TINY_TEXT[0], TINY_TEXT[1])["input_ids"]
    assert feature["input_ids"] == expected
    assert len(expected) == len(tokenizer(TINY_TEXT[0], add_special_tokens=False)["input_ids"]) + len(
        tokenizer(TINY_TEXT[1], add_special_tokens=False)["input_ids"]
    ) + tokenizer.num_special_tokens_to_add(pair=True)


def test_only_a_family_with_several_token_types_keeps_a_pairs_token_types(family, tmp_path):
    """BERT's pair features keep the tokenizer's token types through the feature cache; the other families (one
    token type or none: XLM-R, DeBERTa-v3, ModernBERT, EuroBERT) get their features as before, without any."""
    name, tokenizer, backbone = family
    encoder = BackboneEncoder(backbone)
    assert encoder.token_types == (name == "bert")
    spec = _spec("pair_classification", labels=("yes", "no"))
    example = {"id": "0", "text_a": TINY_TEXT[0], "text_b": TINY_TEXT[1], "label": "yes"}
    kind = get_kind("pair_classification")
    (feature,) = cached_features(kind, spec, [example], tokenizer, 128, tmp_path, {}, encoder.token_types)
    assert (TOKEN_TYPES in feature) == (name == "bert")


def test_fsdp_shards_the_familys_layers_when_the_config_names_none(family):
    from accelerate.utils import FullyShardedDataParallelPlugin
    from accelerate.utils.fsdp_utils import fsdp2_prepare_auto_wrap_policy

    _, _, backbone = family
    model = TaskModel(BackboneEncoder(copy.deepcopy(backbone)), torch.nn.Identity())
    plugin = FullyShardedDataParallelPlugin(fsdp_version=2, auto_wrap_policy="transformer_based_wrap")
    policy = fsdp2_prepare_auto_wrap_policy(plugin, model)
    wrapped = [module for module in model.modules() if policy(module)]
    assert wrapped and list(wrapped) == list(family_of(backbone).layers(model.encoder.backbone))


def test_preflight_refuses_pooler_pooling_on_a_family_without_a_pooler(family):
    from types import SimpleNamespace

    from xlt.pipeline.run.preflight import check_family

    name, _, backbone = family
    stage = SimpleNamespace(task="xnli", method="finetune", head_options=SimpleNamespace(pooling="cls_pooler"))
    if getattr(backbone, "pooler", None) is not None:
        check_family(backbone, [stage], name)  # BERT and XLM-R have one
        return
    with pytest.raises(XltError, match="pooling 'cls_pooler' needs a backbone with a pooler") as error:
        check_family(backbone, [stage], name)
    assert "\n" not in str(error.value)


def test_lora_adapts_the_familys_query_and_value_projections(family):
    _, _, backbone = family
    encoder = adapt(backbone, "lora")
    adapted = {name.split(".lora_")[0].rsplit(".", 1)[-1] for name, p in encoder.named_parameters() if p.requires_grad}
    assert adapted == set(family_of(backbone).lora_targets)


# Eager references: each family's forward written out with plain tensor ops on the model's weights, the prefix's
# keys and values concatenated before each layer's own. `table` is [layers, 2, P, kv width].


def _heads(t: torch.Tensor, size: int) -> torch.Tensor:  # [batch, n, heads x size] -> [batch, heads, n, size]
    return t.reshape(t.shape[0], t.shape[1], -1, size).permute(0, 2, 1, 3)


def _merge(t: torch.Tensor) -> torch.Tensor:  # [batch, heads, n, size] -> [batch, n, heads x size]
    return t.permute(0, 2, 1, 3).reshape(t.shape[0], t.shape[2], -1)


def _linear(x, module):
    return x @ module.weight.T + (module.bias if module.bias is not None else 0)


def _norm(x, module, eps):
    return F.layer_norm(x, (x.shape[-1],), module.weight, module.bias, eps)


def _keep(attention_mask, prompt_length):
    return torch.cat([torch.ones(attention_mask.shape[0], prompt_length, dtype=torch.bool), attention_mask.bool()], 1)


def _softmax_attention(q, k, v, scores_extra, keep, scale):
    scores = q @ k.transpose(-1, -2) * scale + scores_extra
    scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _post_ln_reference(backbone, table, input_ids, attention_mask, positions):
    """BERT and XLM-R: learned positions, token type 0, post-LN layers of multi-head attention."""
    config, emb = backbone.config, backbone.embeddings
    eps, heads = config.layer_norm_eps, config.num_attention_heads
    size, batch, prompt_length = config.hidden_size // heads, input_ids.shape[0], table.shape[2]
    x = emb.word_embeddings.weight[input_ids] + emb.position_embeddings.weight[positions]
    x = _norm(x + emb.token_type_embeddings.weight[0], emb.LayerNorm, eps)
    keep = _keep(attention_mask, prompt_length)
    for index, layer in enumerate(backbone.encoder.layer):
        attention = layer.attention.self
        prefix_k, prefix_v = (_heads(table[index, j].expand(batch, -1, -1), size) for j in (0, 1))
        q = _heads(_linear(x, attention.query), size)
        k = torch.cat([prefix_k, _heads(_linear(x, attention.key), size)], dim=2)
        v = torch.cat([prefix_v, _heads(_linear(x, attention.value), size)], dim=2)
        context = _merge(_softmax_attention(q, k, v, 0.0, keep, 1 / math.sqrt(size)))
        a = _norm(_linear(context, layer.attention.output.dense) + x, layer.attention.output.LayerNorm, eps)
        inner = F.gelu(_linear(a, layer.intermediate.dense))
        x = _norm(_linear(inner, layer.output.dense) + a, layer.output.LayerNorm, eps)
    return x


def bert_reference(backbone, table, input_ids, attention_mask, offset):
    positions = torch.arange(input_ids.shape[1]).expand_as(input_ids) + offset
    return _post_ln_reference(backbone, table, input_ids, attention_mask, positions)


def xlmr_reference(backbone, table, input_ids, attention_mask, offset):
    pad = backbone.config.pad_token_id
    positions = torch.where(attention_mask.bool(), torch.arange(input_ids.shape[1]) + pad + 1 + offset, pad)
    return _post_ln_reference(backbone, table, input_ids, attention_mask, positions)


def xlmr_xl_reference(backbone, table, input_ids, attention_mask, offset):
    """Pre-LN: a norm before attention and before the feed-forward block, residuals around both, a final norm."""
    config, emb = backbone.config, backbone.embeddings
    eps, heads = config.layer_norm_eps, config.num_attention_heads
    size, batch, prompt_length = config.hidden_size // heads, input_ids.shape[0], table.shape[2]
    pad = config.pad_token_id
    positions = torch.where(attention_mask.bool(), torch.arange(input_ids.shape[1]) + pad + 1 + offset, pad)
    x = emb.word_embeddings.weight[input_ids] + emb.position_embeddings.weight[positions]
    x = x + emb.token_type_embeddings.weight[0]
    keep = _keep(attention_mask, prompt_length)
    for index, layer in enumerate(backbone.encoder.layer):
        attention = layer.attention.self
        h = _norm(x, layer.attention.self_attn_layer_norm, eps)
        prefix_k, prefix_v = (_heads(table[index, j].expand(batch, -1, -1), size) for j in (0, 1))
        q = _heads(_linear(h, attention.query), size)
        k = torch.cat([prefix_k, _heads(_linear(h, attention.key), size)], dim=2)
        v = torch.cat([prefix_v, _heads(_linear(h, attention.value), size)], dim=2)
        x = x + _linear(
            _merge(_softmax_attention(q, k, v, 0.0, keep, 1 / math.sqrt(size))), layer.attention.output.dense
        )
        inner = F.gelu(_linear(_norm(x, layer.LayerNorm, eps), layer.intermediate.dense))
        x = x + _linear(inner, layer.output.dense)
    return _norm(x, backbone.encoder.LayerNorm, eps)


def _log_bucket(distance: int, buckets: int, max_position: int) -> int:
    """DeBERTa's log-bucketed relative position (`make_log_bucket_position`), for one distance."""
    mid = buckets // 2
    if abs(distance) <= mid:
        return distance
    log = math.ceil(math.log(abs(distance) / mid) / math.log((max_position - 1) / mid) * (mid - 1)) + mid
    return int(math.copysign(log, distance))


def deberta_reference(backbone, table, input_ids, attention_mask, offset):
    """Disentangled attention: content-to-content over prefix and tokens; content-to-position and
    position-to-content between tokens only (a prefix key has no position), all under sqrt(3 x head size)."""
    config = backbone.config
    eps, heads, span = config.layer_norm_eps, config.num_attention_heads, config.position_buckets
    size, (batch, length), prompt_length = config.hidden_size // heads, input_ids.shape, table.shape[2]
    emb = backbone.embeddings
    x = _norm(emb.word_embeddings.weight[input_ids], emb.LayerNorm, eps) * attention_mask[..., None]
    encoder = backbone.encoder
    rel = _norm(encoder.rel_embeddings.weight, encoder.LayerNorm, eps)
    buckets = torch.tensor(
        [[_log_bucket(i - j, span, config.max_position_embeddings) for j in range(length)] for i in range(length)]
    )
    index = torch.clamp(buckets + span, 0, 2 * span - 1)
    keep = _keep(attention_mask, prompt_length)
    for layer_index, layer in enumerate(encoder.layer):
        attention = layer.attention.self
        prefix_k, prefix_v = (_heads(table[layer_index, j].expand(batch, -1, -1), size) for j in (0, 1))
        q, k = _heads(_linear(x, attention.query_proj), size), _heads(_linear(x, attention.key_proj), size)
        position_k = _heads(_linear(rel[None], attention.key_proj), size)[0]  # shared: the content projections
        position_q = _heads(_linear(rel[None], attention.query_proj), size)[0]
        c2p = torch.einsum("bhid,hijd->bhij", q, position_k[:, index])  # query i against distance i - j
        p2c = torch.einsum("bhjd,hijd->bhij", k, position_q[:, index])  # key j against the same distance
        scale = 1 / math.sqrt(size * 3)
        relative = F.pad((c2p + p2c) * scale, (prompt_length, 0))
        all_k = torch.cat([prefix_k, k], dim=2)
        all_v = torch.cat([prefix_v, _heads(_linear(x, attention.value_proj), size)], dim=2)
        context = _merge(_softmax_attention(q, all_k, all_v, relative, keep, scale))
        a = _norm(_linear(context, layer.attention.output.dense) + x, layer.attention.output.LayerNorm, eps)
        inner = F.gelu(_linear(a, layer.intermediate.dense))
        x = _norm(_linear(inner, layer.output.dense) + a, layer.output.LayerNorm, eps)
    return x


def _rotate(x, positions, theta):
    """RoPE on [batch, heads, n, size] at `positions` [n] (rotate-half convention)."""
    size = x.shape[-1]
    angles = positions[:, None].float() * (1.0 / theta ** (torch.arange(0, size, 2).float() / size))[None]
    cos, sin = torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()
    halves = torch.cat([-x[..., size // 2 :], x[..., : size // 2]], dim=-1)
    return x * cos + halves * sin


def modernbert_reference(backbone, table, input_ids, attention_mask, offset):
    """Pre-LN layers, rotary queries and keys (prefix keys unrotated), local layers windowed between tokens
    only, GeGLU feed-forward, final norm."""
    config = backbone.config
    eps, heads = config.norm_eps, config.num_attention_heads
    size, (batch, length), prompt_length = config.hidden_size // heads, input_ids.shape, table.shape[2]
    x = _norm(backbone.embeddings.tok_embeddings.weight[input_ids], backbone.embeddings.norm, eps)
    positions = torch.arange(length) + offset
    token = torch.arange(length)
    near = (token[:, None] - token[None, :]).abs() <= config.local_attention // 2
    window = torch.cat([torch.zeros(length, prompt_length, dtype=torch.bool), ~near], dim=1)
    keep = _keep(attention_mask, prompt_length)
    for index, layer in enumerate(backbone.layers):
        kind = config.layer_types[index]
        theta = config.rope_parameters[kind]["rope_theta"]
        h = x if index == 0 else _norm(x, layer.attn_norm, eps)
        q, k, v = (_heads(part, size) for part in _linear(h, layer.attn.Wqkv).chunk(3, dim=-1))
        q, k = _rotate(q, positions, theta), _rotate(k, positions, theta)
        prefix_k, prefix_v = (_heads(table[index, j].expand(batch, -1, -1), size) for j in (0, 1))
        local = torch.zeros(window.shape).masked_fill(window, float("-inf")) if kind == "sliding_attention" else 0.0
        context = _merge(
            _softmax_attention(
                q, torch.cat([prefix_k, k], 2), torch.cat([prefix_v, v], 2), local, keep, 1 / math.sqrt(size)
            )
        )
        x = x + _linear(context, layer.attn.Wo)
        gate_in, gate = _linear(_norm(x, layer.mlp_norm, eps), layer.mlp.Wi).chunk(2, dim=-1)
        x = x + _linear(F.gelu(gate_in) * gate, layer.mlp.Wo)
    return _norm(x, backbone.final_norm, eps)


def _rms(x, module, eps):
    return module.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


def eurobert_reference(backbone, table, input_ids, attention_mask, offset):
    """Pre-RMSNorm layers, rotary queries and keys (prefix keys unrotated), grouped-query attention: each
    key-value head (prefix included) serves num_attention_heads / num_key_value_heads query heads."""
    config = backbone.config
    eps, heads, groups = (
        config.rms_norm_eps,
        config.num_attention_heads,
        config.num_attention_heads // config.num_key_value_heads,
    )
    size, (batch, length) = config.hidden_size // heads, input_ids.shape
    theta = config.rope_parameters["rope_theta"]
    x = backbone.embed_tokens.weight[input_ids]
    positions = torch.arange(length) + offset
    keep = _keep(attention_mask, table.shape[2])
    for index, layer in enumerate(backbone.layers):
        attention = layer.self_attn
        h = _rms(x, layer.input_layernorm, eps)
        q = _rotate(_heads(_linear(h, attention.q_proj), size), positions, theta)
        k = _rotate(_heads(_linear(h, attention.k_proj), size), positions, theta)
        v = _heads(_linear(h, attention.v_proj), size)
        prefix_k, prefix_v = (_heads(table[index, j].expand(batch, -1, -1), size) for j in (0, 1))
        k = torch.cat([prefix_k, k], 2).repeat_interleave(groups, dim=1)
        v = torch.cat([prefix_v, v], 2).repeat_interleave(groups, dim=1)
        x = x + _linear(_merge(_softmax_attention(q, k, v, 0.0, keep, 1 / math.sqrt(size))), attention.o_proj)
        h = _rms(x, layer.post_attention_layernorm, eps)
        x = x + _linear(F.silu(_linear(h, layer.mlp.gate_proj)) * _linear(h, layer.mlp.up_proj), layer.mlp.down_proj)
    return _rms(x, backbone.norm, eps)


REFERENCES = {
    "bert": bert_reference,
    "xlm-roberta": xlmr_reference,
    "xlm-roberta-xl": xlmr_xl_reference,
    "deberta-v2": deberta_reference,
    "modernbert": modernbert_reference,
    "eurobert": eurobert_reference,
}
