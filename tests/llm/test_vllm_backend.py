"""The vLLM offline backend: import-guarded everywhere, exercised on a GPU when there is one
(a tiny random-weight Llama written by the test: JSON-schema constrained decoding must give
schema-valid answers even from random weights)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from medbench.llm.runner import LLMClient, LLMRequest
from medbench.llm.settings import LLMSettings
from medbench.prompts.templates import load_template


def test_the_llm_layer_never_imports_vllm_unless_asked():
    code = (
        "import sys, medbench.cli, medbench.llm.runner, medbench.builders.vgmed.build\n"
        "print('vllm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_asking_for_vllm_without_it_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    settings = LLMSettings(backend="vllm", model="x", cache_path=tmp_path / "c.sqlite")
    request = LLMRequest.of(load_template("vgmed-attribute-ct"), modality="CT", label="liver")
    with LLMClient(settings) as client, pytest.raises(RuntimeError, match="pip install"):
        client.run([request])


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _tiny_llama(folder) -> str:
    """A 2-layer Llama with random weights and a byte-level BPE tokenizer with a chat
    template, saved as a Hugging Face model folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(['{"questions": ["Is the liver enlarged?"]}'] * 10, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>")
    fast.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant: "
    )
    fast.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        bos_token_id=0,
        eos_token_id=1,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    return str(folder)


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda(), reason="needs CUDA")
def test_vllm_engine_answers_schema_valid_json(tmp_path):
    pytest.importorskip("vllm")
    from medbench.llm.vllm_backend import VLLMBackend

    model = _tiny_llama(tmp_path / "tiny-llama")
    settings = LLMSettings(backend="vllm", model=model, no_cache=True, repairs=0)
    backend = VLLMBackend(
        settings, max_model_len=2048, gpu_memory_utilization=0.2, enforce_eager=True
    )
    template = load_template("vgmed-attribute-ct")
    requests = [
        LLMRequest.of(template, {"max_tokens": 200}, modality="CT", label=label)
        for label in ("liver", "spleen", "aorta")
    ]
    with LLMClient(settings, backend=backend) as client:
        results = client.run(requests)
    # constrained decoding keeps the answer in the schema's shape; random weights may still
    # repeat a question or run out of tokens, which is a recorded failure, never a crash
    assert client.stats.calls == len(requests)
    assert all(r.output is not None or r.error for r in results)
    assert any(r.raw.lstrip().startswith("{") for r in results)
