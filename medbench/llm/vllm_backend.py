"""vLLM's offline engine on a local GPU: every job of a round goes in one batched
``LLM.chat`` call. The ``vllm`` extra is imported only when this backend is used."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from medbench.llm.backend import Completion, Job
from medbench.llm.settings import LLMSettings


def _require_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise RuntimeError(
            "the vllm backend needs the vllm package and a CUDA GPU: "
            "pip install 'medbench[vllm]' (or use --llm openai with a `vllm serve` URL)"
        ) from exc
    return vllm


def _structured_params(vllm: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """JSON-schema constrained decoding; the parameter was renamed across vLLM releases."""
    sampling_params = vllm.sampling_params
    if hasattr(sampling_params, "StructuredOutputsParams"):
        return {"structured_outputs": sampling_params.StructuredOutputsParams(json=schema)}
    return {"guided_decoding": sampling_params.GuidedDecodingParams(json=schema)}


class VLLMBackend:
    name = "vllm"

    def __init__(self, settings: LLMSettings, **engine_args: Any):
        vllm = _require_vllm()
        self.vllm = vllm
        self.model = settings.model
        # engine_args: anything vllm.LLM takes (max_model_len, gpu_memory_utilization, ...)
        self.engine = vllm.LLM(
            model=settings.model, tensor_parallel_size=settings.tensor_parallel_size, **engine_args
        )

    async def aclose(self) -> None:
        return None

    def _params(self, job: Job) -> Any:
        sampling = dict(job.sampling)
        extra = {}
        if job.response_format is not None:
            schema = job.response_format["json_schema"]["schema"]
            extra = _structured_params(self.vllm, schema)
        return self.vllm.SamplingParams(
            temperature=float(sampling.get("temperature", 0.0)),
            max_tokens=int(sampling.get("max_tokens", 512)),
            seed=sampling.get("seed"),
            **extra,
        )

    def run_batch(self, jobs: list[Job]) -> list[Completion]:
        outputs = self.engine.chat(
            [job.messages for job in jobs], [self._params(job) for job in jobs], use_tqdm=True
        )
        completions = []
        for output in outputs:
            text = output.outputs[0].text if output.outputs else ""
            usage = {
                "prompt_tokens": len(output.prompt_token_ids or []),
                "completion_tokens": len(output.outputs[0].token_ids) if output.outputs else 0,
            }
            completions.append(Completion(text, usage))
        return completions

    async def stream(self, jobs: list[Job]) -> AsyncIterator[tuple[int, Completion]]:
        if not jobs:
            return
        # the engine blocks: run it off the event loop so progress and caching keep going
        completions = await asyncio.to_thread(self.run_batch, jobs)
        for index, completion in enumerate(completions):
            yield index, completion
