"""The last prompt token's attention in every decoder layer, without the (tokens x tokens)
matrices that ``output_attentions`` keeps.

Eager attention with ``output_attentions=True`` (the reference route) stores every layer's
full attention matrix: for a 7B model with ~700 tokens that is about 1 GB a row in bfloat16.
The attention maps of paper 001 need one row of each: the last position's. This probe is an
attention function registered with transformers' ``AttentionInterface`` (and its mask with
``AttentionMaskInterface``, so padding is masked as for SDPA): the layer's output comes from
``sdpa_attention_forward`` as usual, and for causal (decoder) layers it also computes
softmax(q_last · Kᵀ · scale + mask) in float32 (keys repeated for grouped-query attention)
and stores it: O(layers · heads · tokens) memory. Research notes §6.6 describe the route.

It reproduces eager attention for plain softmax attention (Llama, Qwen2, Mistral, ...: tested
against ``output_attentions`` on a tiny LLaVA); it does not model logit soft-capping or
sliding windows (Gemma 2/3), for which the eager route is the right one.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator
from typing import Any

PROBE_NAME = "medbench_last_row_probe"
_CAPTURE: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "medbench_attention_capture", default=None
)
_registered = False


def _last_row(query: Any, key: Any, attention_mask: Any, scaling: float | None) -> Any:
    """[batch, heads, keys] attention probabilities of the last query position."""
    import torch
    from transformers.integrations.sdpa_attention import repeat_kv

    groups = query.shape[1] // key.shape[1]
    keys = repeat_kv(key, groups) if groups > 1 else key
    scale = scaling if scaling is not None else 1.0 / math.sqrt(query.shape[-1])
    scores = (query[:, :, -1:, :].float() @ keys.float().transpose(-1, -2)) * scale
    if attention_mask is not None:
        mask = attention_mask[:, :, -1:, : keys.shape[-2]]
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask.float()
    return scores.softmax(dim=-1)[:, :, 0, :]


def _probe(
    module: Any, query: Any, key: Any, value: Any, attention_mask: Any, **kwargs: Any
) -> Any:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    out = sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    store = _CAPTURE.get()
    # vision towers (CLIP, Qwen2-VL's ViT) are not causal: only decoder layers are recorded
    if store is not None and getattr(module, "is_causal", False):
        store.append(_last_row(query, key, attention_mask, kwargs.get("scaling")))
    return out


def register() -> str:
    """Register the probe (once) and return its attention-implementation name."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface
        from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

        AttentionInterface.register(PROBE_NAME, _probe)
        AttentionMaskInterface.register(PROBE_NAME, sdpa_mask)
        _registered = True
    return PROBE_NAME


@contextlib.contextmanager
def capture(model: Any) -> Iterator[list[Any]]:
    """Within the block, ``model`` runs with the probe and every decoder layer's last-row
    attention ([batch, heads, keys] tensors, in layer order) is appended to the yielded list;
    the model's own attention implementation is restored afterwards."""
    name = register()
    previous = getattr(model.config, "_attn_implementation", None)
    model.set_attn_implementation(name)
    rows: list[Any] = []
    token = _CAPTURE.set(rows)
    try:
        yield rows
    finally:
        _CAPTURE.reset(token)
        if previous is not None:
            model.set_attn_implementation(previous)
