"""Run prompt requests through a backend: cache first, then rounds of calls whose answers
are validated as they arrive; bad answers are re-asked with the problem fed back.

A validated answer is committed to the cache the moment it arrives, so a run killed
midway repeats none of the calls that had finished. Failures are recorded, not cached:
the next run asks again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from medbench.llm.backend import Backend, Job
from medbench.llm.cache import CachedResponse, ResponseCache, cache_key
from medbench.llm.outputs import output_model, output_schema
from medbench.llm.settings import LLMSettings
from medbench.llm.structured import (
    OutputProblem,
    parse_output,
    repair_messages,
    response_format,
)
from medbench.prompts.templates import PromptTemplate

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class LLMRequest:
    template: PromptTemplate
    variables: dict[str, Any]
    sampling: dict[str, Any]

    @classmethod
    def of(cls, template: PromptTemplate, sampling: dict | None = None, **variables: Any):
        return cls(template, variables, {**template.sampling, **(sampling or {})})

    def messages(self) -> list[dict[str, str]]:
        return self.template.render(**self.variables)


@dataclass
class LLMResult:
    request: LLMRequest
    output: BaseModel | None = None
    raw: str = ""
    error: str | None = None
    cached: bool = False
    attempts: int = 0


@dataclass
class LLMStats:
    """What a run cost; goes into the build manifest."""

    backend: str
    model: str
    requests: int = 0  # asked for by the caller
    unique: int = 0  # after merging identical requests
    cache_hits: int = 0
    calls: int = 0  # answers received from the backend (repairs included)
    repairs: int = 0  # answers re-asked after failing validation
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    structured_output: bool | None = None
    prompts: dict[str, str] = field(default_factory=dict)  # id -> sha256 of those used

    def add(self, other: LLMStats) -> None:
        for name in ("requests", "unique", "cache_hits", "calls", "repairs", "failures"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.prompts.update(other.prompts)
        if other.structured_output is not None:
            self.structured_output = other.structured_output

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_backend(settings: LLMSettings, seed: int = 0) -> Backend:
    if settings.backend == "openai":
        from medbench.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    if settings.backend == "vllm":
        from medbench.llm.vllm_backend import VLLMBackend

        return VLLMBackend(settings)
    from medbench.llm.template_backend import TemplateBackend

    return TemplateBackend(seed)


@dataclass
class _Pending:
    key: str
    request: LLMRequest
    messages: list[dict[str, str]]
    attempts: int = 0
    usage_prompt: int = 0
    usage_completion: int = 0


class LLMClient:
    """One backend, one cache, many requests. ``run`` is synchronous (it owns an event
    loop for the call); use ``arun`` from async code."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        backend: Backend | None = None,
        seed: int = 0,
        progress: Progress | None = None,
    ):
        self.settings = settings
        self.seed = seed
        self._backend = backend
        self.progress = progress
        path = settings.cache_file
        self.cache = ResponseCache(path) if path is not None else None
        self.stats = LLMStats(settings.backend, settings.model_name)

    @property
    def backend(self) -> Backend:
        if self._backend is None:  # vLLM loads a model: only when a call is needed
            self._backend = make_backend(self.settings, self.seed)
        return self._backend

    def provenance(self, template: PromptTemplate) -> str:
        """What produced an answer: goes into ``question_source`` and similar columns."""
        if self.settings.backend == "template":
            return "template"
        return f"{self.settings.backend}:{self.settings.model}:{template.id}@{template.short_hash}"

    def close(self) -> None:
        if self._backend is not None:
            asyncio.run(self._backend.aclose())
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def key(self, request: LLMRequest, messages: list[dict[str, str]]) -> str:
        return cache_key(
            backend=self.settings.backend,
            model=self.settings.model_name,
            prompt_id=request.template.id,
            prompt_hash=request.template.sha256,
            messages=messages,
            sampling=request.sampling,
            output_schema=output_schema(request.template.output),
        )

    def run(self, requests: list[LLMRequest], stage: str = "LLM requests") -> list[LLMResult]:
        return asyncio.run(self.arun(requests, stage))

    async def arun(
        self, requests: list[LLMRequest], stage: str = "LLM requests"
    ) -> list[LLMResult]:
        stats = LLMStats(self.settings.backend, self.settings.model_name, requests=len(requests))
        by_key: dict[str, _Pending] = {}
        order = []
        for request in requests:
            messages = request.messages()
            key = self.key(request, messages)
            order.append(key)
            by_key.setdefault(key, _Pending(key, request, messages))
            stats.prompts[request.template.id] = request.template.sha256
        stats.unique = len(by_key)
        results: dict[str, LLMResult] = {}
        cached = self.cache.get_many(by_key) if self.cache is not None else {}
        for key, hit in cached.items():
            result = self._from_cache(by_key[key].request, hit)
            if result is not None:
                results[key] = result
        stats.cache_hits = len(results)
        done, total = len(results), len(by_key)
        self._report(stage, done, total)
        todo = [p for k, p in by_key.items() if k not in results]
        for round_index in range(self.settings.repairs + 1):
            if not todo:
                break
            retry: list[_Pending] = []
            jobs = [self._job(p) for p in todo]
            async for index, completion in self.backend.stream(jobs):
                pending = todo[index]
                pending.attempts += completion.attempts
                pending.usage_prompt += completion.usage.get("prompt_tokens", 0)
                pending.usage_completion += completion.usage.get("completion_tokens", 0)
                stats.prompt_tokens += completion.usage.get("prompt_tokens", 0)
                stats.completion_tokens += completion.usage.get("completion_tokens", 0)
                if completion.error is not None:
                    results[pending.key] = self._failed(pending, completion.error)
                    stats.failures += 1
                else:
                    stats.calls += 1
                    result = self._accept(pending, completion.content)
                    if result.error is None:
                        results[pending.key] = result
                    elif round_index < self.settings.repairs:
                        pending.messages = repair_messages(
                            pending.messages, completion.content, result.error
                        )
                        stats.repairs += 1
                        retry.append(pending)
                        continue
                    else:
                        results[pending.key] = result
                        stats.failures += 1
                done += 1
                self._report(stage, done, total)
            todo = retry
        stats.structured_output = (
            getattr(self.backend, "structured_output", None)
            if (self._backend is not None)
            else None
        )
        self.stats.add(stats)
        self.last_stats = stats
        return [results[key] for key in order]

    def _report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def _job(self, pending: _Pending) -> Job:
        template = pending.request.template
        return Job(
            messages=pending.messages,
            sampling=pending.request.sampling,
            response_format=response_format(template.output),
            output=template.output,
            variables=pending.request.variables,
        )

    def _from_cache(self, request: LLMRequest, hit: CachedResponse) -> LLMResult | None:
        model = output_model(request.template.output)
        try:
            output = model.model_validate(hit.parsed)
        except ValidationError:
            return None  # written by an older output model: ask again
        return LLMResult(request, output, hit.raw, cached=True, attempts=hit.attempts)

    def _accept(self, pending: _Pending, content: str) -> LLMResult:
        request = pending.request
        model = output_model(request.template.output)
        try:
            output = parse_output(content, model, request.variables)
        except OutputProblem as exc:
            return LLMResult(request, None, content, error=str(exc), attempts=pending.attempts)
        if self.cache is not None:
            usage = {
                "prompt_tokens": pending.usage_prompt,
                "completion_tokens": pending.usage_completion,
            }
            self.cache.put(
                pending.key,
                CachedResponse(output.model_dump(mode="json"), content, usage, pending.attempts),
                prompt_id=request.template.id,
                prompt_hash=request.template.sha256,
                model=self.settings.model_name,
            )
        return LLMResult(request, output, content, attempts=pending.attempts)

    def _failed(self, pending: _Pending, why: str) -> LLMResult:
        return LLMResult(pending.request, None, "", error=why, attempts=pending.attempts)
