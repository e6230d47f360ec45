"""Any OpenAI-compatible multimodal chat endpoint (``vllm serve``, OpenAI, ...).

Each request is one user message: the images as base64 ``data:`` URLs (``image_url`` parts),
then the prompt text. Transport (bounded concurrency, retries of 429 / 5xx / timeouts / drops
with capped exponential backoff honouring ``Retry-After``) is ``medbench.llm``'s
``OpenAIBackend``; a request that still fails comes back as an ``EvalFailure``.

Arguments (``--model-args``): ``model`` (required, the served model name), ``base_url``
(default ``$MEDBENCH_LLM_BASE_URL``, else ``$OPENAI_BASE_URL``, else OpenAI's),
``concurrency`` (8), ``timeout_s`` (120), ``max_attempts`` (6), ``backoff_s`` (1),
``backoff_max_s`` (30), ``system_prompt`` (none), ``image_detail`` (none; OpenAI's
``low`` / ``high`` / ``auto``). The key comes from ``$OPENAI_API_KEY`` only.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from medbench.evaluators.models.base import BaseEvalModel, EvalFailure, EvalRequest

# Generation settings the chat-completions call takes as keyword arguments; any other key is
# sent in the request body as is (vLLM's ``top_k``, ``repetition_penalty``, ...).
_SAMPLING_KEYS = frozenset(
    {"max_tokens", "temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty"}
)


class OpenAIModelArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    base_url: str | None = None
    concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(120.0, gt=0)
    max_attempts: int = Field(6, ge=1)
    backoff_s: float = Field(1.0, ge=0)
    backoff_max_s: float = Field(30.0, ge=0)
    system_prompt: str | None = None
    image_detail: Literal["low", "high", "auto"] | None = None


def image_mime(data: bytes) -> str:
    """MIME type of encoded image bytes from their signature (PNG, JPEG, GIF, WebP, BMP)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM"):
        return "image/bmp"
    return "application/octet-stream"


def data_url(data: bytes) -> str:
    return f"data:{image_mime(data)};base64,{base64.b64encode(data).decode('ascii')}"


class OpenAIModel(BaseEvalModel):
    name = "openai"
    description = "any OpenAI-compatible multimodal endpoint (images as data URLs)"

    def __init__(self, **args: Any) -> None:
        if "api_key" in args:
            raise ValueError("pass the API key in $OPENAI_API_KEY, not in --model-args")
        if "model" not in args:
            raise ValueError("the openai model needs model=<served model name> in --model-args")
        self.args = OpenAIModelArgs(**args)
        self.model_id = f"openai:{self.args.model}"
        env = os.environ
        base_url = self.args.base_url or env.get("MEDBENCH_LLM_BASE_URL") or None
        base_url = base_url or env.get("OPENAI_BASE_URL") or None
        key = env.get("OPENAI_API_KEY")
        # imported here: the registry lists this model without loading the openai client
        from medbench.llm.openai_backend import OpenAIBackend
        from medbench.llm.settings import LLMSettings

        self.settings = LLMSettings(
            backend="openai",
            base_url=base_url,
            model=self.args.model,
            api_key=SecretStr(key) if key else None,
            concurrency=self.args.concurrency,
            timeout_s=self.args.timeout_s,
            max_attempts=self.args.max_attempts,
            backoff_s=self.args.backoff_s,
            backoff_max_s=self.args.backoff_max_s,
            no_cache=True,
        )
        self._backend = OpenAIBackend(self.settings)
        # answers are committed to the cache per batch: two rounds of the concurrency keep
        # the server busy while a killed run loses at most one batch of answers
        self.default_batch_size = 2 * self.args.concurrency

    def fingerprint_args(self) -> Mapping[str, Any]:
        # the served model, and what changes the request; not the URL or transport settings,
        # so a resumed run against a restarted server still hits the cache
        return {
            "model": self.args.model,
            "system_prompt": self.args.system_prompt,
            "image_detail": self.args.image_detail,
        }

    def messages(self, request: EvalRequest) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for image in request.images:
            url: dict[str, Any] = {"url": data_url(image)}
            if self.args.image_detail:
                url["detail"] = self.args.image_detail
            parts.append({"type": "image_url", "image_url": url})
        parts.append({"type": "text", "text": request.prompt})
        messages: list[dict[str, Any]] = []
        if self.args.system_prompt:
            messages.append({"role": "system", "content": self.args.system_prompt})
        messages.append({"role": "user", "content": parts})
        return messages

    @staticmethod
    def sampling(generation: Mapping[str, Any]) -> dict[str, Any]:
        known = {k: v for k, v in generation.items() if k in _SAMPLING_KEYS}
        extra = {k: v for k, v in generation.items() if k not in _SAMPLING_KEYS}
        return {**known, **({"extra_body": extra} if extra else {})}

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]:
        from medbench.llm.backend import Job

        jobs = [
            Job(
                messages=self.messages(r),  # type: ignore[arg-type]
                sampling=self.sampling(r.generation),
                response_format=None,
                output="text",
                variables={},
            )
            for r in batch
        ]

        async def collect() -> list[str | EvalFailure]:
            out: list[str | EvalFailure] = [EvalFailure("not answered")] * len(jobs)
            async for index, completion in self._backend.stream(jobs):
                if completion.error is not None:
                    out[index] = EvalFailure(completion.error)
                else:
                    out[index] = completion.content
            return out

        return asyncio.run(collect())
