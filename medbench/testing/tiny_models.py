"""Tiny image-text-to-text models with random weights, built from configs, for tests and demos.

Nothing is downloaded: the tokenizer is a byte-level BPE without merges (every byte one
token, so any text encodes) built with the ``tokenizers`` library, wrapped in
``PreTrainedTokenizerFast`` with the special tokens the model needs and a chat template; the
model is its ``transformers`` class built from a tiny config with seeded random weights. Each
builder saves model, tokenizer and processor to a folder with ``save_pretrained``, so a test
loads them back through the normal ``from_pretrained(path)`` route (``AutoProcessor`` and
``AutoModelForImageTextToText``), as it would a Hub checkpoint.

The answers of such a model are garbage (random weights), but deterministic: greedy decoding
of a given prompt and image gives the same text every time. The text model is initialised
with a larger spread than usual (``initializer_range``) so that the next-token logits are far
apart and greedy decoding does not hinge on rounding (batched and unbatched runs agree).

Needs torch and transformers (the ``models`` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LLAVA_SPECIAL = ("<unk>", "<s>", "</s>", "<pad>", "<image>")

# LLaVA-1.5's conversation layout ("USER: <image>\n... ASSISTANT:"), images before the text.
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['content'] is string %}{% set parts = [{'type': 'text', 'text': "
    "message['content']}] %}{% else %}{% set parts = message['content'] %}{% endif %}"
    "{% if message['role'] == 'system' %}"
    "{% for part in parts %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{{ '\n' }}"
    "{% else %}{{ message['role'] | upper }}{{ ': ' }}"
    "{% for part in parts %}{% if part['type'] == 'image' %}{{ '<image>\n' }}{% endif %}"
    "{% endfor %}"
    "{% for part in parts %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}"
    "{% if message['role'] == 'assistant' %}{{ '</s>' }}{% endif %}{{ ' ' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)


def byte_level_tokenizer(
    special_tokens: tuple[str, ...],
    chat_template: str | None = None,
    *,
    add_bos: bool = False,
    **named: str,
):
    """A ``PreTrainedTokenizerFast``: ``special_tokens`` first (ids 0, 1, ...), then the 256
    bytes; ``named`` maps roles to tokens (``bos_token="<s>"``, ``pad_token=...``);
    ``add_bos`` puts the BOS token before every encoded text (as Llama's tokenizer does)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: i for i, token in enumerate(special_tokens)}
    for char in sorted(alphabet):
        vocab[char] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=named.get("unk_token")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(special_tokens))
    if add_bos:
        bos = named["bos_token"]
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, vocab[bos])]
        )
    roles = {"bos_token", "eos_token", "unk_token", "pad_token"}
    kwargs: dict[str, Any] = {k: v for k, v in named.items() if k in roles}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=4096,
        model_input_names=["input_ids", "attention_mask"],  # no token_type_ids
        clean_up_tokenization_spaces=False,  # decode gives back exactly what was generated
        **kwargs,
    )
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    return tokenizer


def _seeded(seed: int):
    import torch

    torch.manual_seed(seed)
    return torch


def _clip_image_processor(size: int, layout: str = "crop"):
    """CLIP's processor (shortest edge, centre crop), or with ``layout="pad"`` LLaVA's, which
    first pads the image to a square (LLaVA-1.5's ``expand2square``)."""
    import transformers

    # transformers 5 without torchvision: the PIL backend (the same numbers)
    if layout == "pad":
        cls = (
            getattr(transformers, "LlavaImageProcessorPil", None)
            or transformers.LlavaImageProcessor
        )
        extra = {"do_pad": True}
    elif layout == "crop":
        cls = (
            getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
        )
        extra = {}
    else:
        raise ValueError(f"layout must be 'crop' or 'pad', got {layout!r}")
    return cls(
        size={"shortest_edge": size},
        crop_size={"height": size, "width": size},
        do_center_crop=True,
        do_convert_rgb=True,
        **extra,
    )


def _llava_parts(
    image_size: int, patch_size: int, hidden_size: int, num_layers: int, init: float, heads: int = 4
):
    """The tokenizer, its special-token ids and the vision and text configs of a tiny LLaVA."""
    from transformers import CLIPVisionConfig, LlamaConfig

    tokenizer = byte_level_tokenizer(
        LLAVA_SPECIAL,
        LLAVA_CHAT_TEMPLATE,
        add_bos=True,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
    )
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in LLAVA_SPECIAL}
    vision = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch_size,
        projection_dim=32,
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),  # grouped-query attention, as Llama 3 / Qwen2
        max_position_embeddings=4096,
        initializer_range=init,
        bos_token_id=ids["<s>"],
        eos_token_id=ids["</s>"],
        pad_token_id=ids["<pad>"],
    )
    return tokenizer, ids, vision, text


def _save_llava(path: Path, model: Any, processor: Any, ids: dict[str, int]) -> Path:
    gen = model.generation_config
    gen.bos_token_id, gen.eos_token_id, gen.pad_token_id = ids["<s>"], ids["</s>"], ids["<pad>"]
    gen.do_sample = False
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def build_tiny_llava(
    path: str | Path,
    *,
    seed: int = 0,
    image_size: int = 28,
    patch_size: int = 14,
    hidden_size: int = 48,
    num_layers: int = 2,
    initializer_range: float = 0.2,
    image_layout: str = "crop",
    num_heads: int = 4,
) -> Path:
    """A LLaVA-1.5-style model (CLIP vision tower, MLP projector, Llama) in ``path``.

    ``image_size / patch_size`` squared image tokens per image (4 by default);
    ``image_layout`` is the image processor's: ``crop`` (CLIP's) or ``pad`` (LLaVA's).
    """
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor

    tokenizer, ids, vision, text = _llava_parts(
        image_size, patch_size, hidden_size, num_layers, initializer_range, num_heads
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=ids["<image>"],
        image_seq_length=(image_size // patch_size) ** 2,
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
    )
    config.pad_token_id = ids["<pad>"]
    _seeded(seed)
    model = LlavaForConditionalGeneration(config).eval()
    processor = LlavaProcessor(
        image_processor=_clip_image_processor(image_size, image_layout),
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        chat_template=LLAVA_CHAT_TEMPLATE,
        image_token="<image>",
        num_additional_image_tokens=1,  # CLIP's class token, dropped by "default"
    )
    return _save_llava(Path(path), model, processor, ids)


def build_tiny_llava_next(
    path: str | Path,
    *,
    seed: int = 0,
    image_size: int = 28,
    patch_size: int = 14,
    hidden_size: int = 48,
    num_layers: int = 2,
    initializer_range: float = 0.2,
) -> Path:
    """A LLaVA-NeXT-style model ("anyres": the base image plus tiles of a grid pinpoint, with
    a newline token per tile row) in ``path``; pinpoints 1x2, 2x1 and 2x2 base sizes."""
    import transformers
    from transformers import LlavaNextConfig, LlavaNextForConditionalGeneration, LlavaNextProcessor

    tokenizer, ids, vision, text = _llava_parts(
        image_size, patch_size, hidden_size, num_layers, initializer_range
    )
    s = image_size
    pinpoints = [[s, 2 * s], [2 * s, s], [2 * s, 2 * s]]
    config = LlavaNextConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=ids["<image>"],
        image_grid_pinpoints=pinpoints,
        vision_feature_select_strategy="default",
        vision_feature_layer=-2,
    )
    config.pad_token_id = ids["<pad>"]
    _seeded(seed)
    model = LlavaNextForConditionalGeneration(config).eval()
    # transformers 5 without torchvision: the PIL backend
    image_cls = (
        getattr(transformers, "LlavaNextImageProcessorPil", None)
        or transformers.LlavaNextImageProcessor
    )
    processor = LlavaNextProcessor(
        image_processor=image_cls(
            size={"shortest_edge": s},
            crop_size={"height": s, "width": s},
            image_grid_pinpoints=pinpoints,
            do_center_crop=True,
            do_convert_rgb=True,
        ),
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        chat_template=LLAVA_CHAT_TEMPLATE,
        image_token="<image>",
        num_additional_image_tokens=1,
    )
    return _save_llava(Path(path), model, processor, ids)


def build_tiny_causal_lm(path: str | Path, *, seed: int = 0) -> Path:
    """A text-only Llama (not image-text-to-text), to test that the adapter refuses it."""
    from transformers import LlamaConfig, LlamaForCausalLM

    path = Path(path)
    tokenizer = byte_level_tokenizer(
        LLAVA_SPECIAL, LLAVA_CHAT_TEMPLATE, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
    )
    _seeded(seed)
    model = LlamaForCausalLM(config).eval()
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
