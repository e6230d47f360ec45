"""Any OpenAI-compatible chat endpoint (``vllm serve``, OpenAI) through the async client.

The client's own retries are off: this module retries 429s, 5xx answers, timeouts and
dropped connections itself, with capped exponential backoff (honouring ``Retry-After``),
so the attempts can be counted and a failure recorded instead of raised.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import openai

from medbench.llm.backend import Completion, Job
from medbench.llm.settings import LLMSettings

_RETRY_STATUS = {408, 409, 429}


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _usage(response: Any) -> dict[str, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return {}
    return {
        "prompt_tokens": int(usage.prompt_tokens or 0),
        "completion_tokens": int(usage.completion_tokens or 0),
    }


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: LLMSettings):
        self.settings = settings
        self.model = settings.model
        self.client: openai.AsyncOpenAI | None = None  # one per stream: bound to its loop
        # None until a server answers a request that asked for structured output
        self.structured_output: bool | None = None
        self.fallbacks = 0  # requests re-sent without response_format

    async def aclose(self) -> None:
        return None

    def _new_client(self) -> openai.AsyncOpenAI:
        settings = self.settings
        key = settings.api_key.get_secret_value() if settings.api_key else "EMPTY"
        return openai.AsyncOpenAI(
            api_key=key, base_url=settings.base_url, timeout=settings.timeout_s, max_retries=0
        )

    async def stream(self, jobs: list[Job]) -> AsyncIterator[tuple[int, Completion]]:
        gate = asyncio.Semaphore(self.settings.concurrency)
        self.client = self._new_client()

        async def one(index: int, job: Job) -> tuple[int, Completion]:
            async with gate:
                return index, await self.complete(job)

        pending = [asyncio.ensure_future(one(i, job)) for i, job in enumerate(jobs)]
        try:
            for finished in asyncio.as_completed(pending):
                yield await finished
        finally:
            for task in pending:
                task.cancel()
            await self.client.close()

    def _wait(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return min(hint, self.settings.backoff_max_s)
        ceiling = min(self.settings.backoff_s * 2**attempt, self.settings.backoff_max_s)
        return random.uniform(ceiling / 2, ceiling)  # jitter spreads a burst of retries

    async def complete(self, job: Job) -> Completion:
        last, attempt = "", -1
        while attempt + 1 < self.settings.max_attempts:
            attempt += 1
            fmt = job.response_format if self.structured_output is not False else None
            try:
                assert self.client is not None
                response = await self.client.chat.completions.create(
                    model=self.model,
                    messages=job.messages,  # type: ignore[arg-type]
                    **({"response_format": fmt} if fmt else {}),
                    **job.sampling,
                )
            except openai.BadRequestError as exc:
                if fmt is not None and self.structured_output is not True:
                    # a server without structured output: ask for plain text from now on
                    # (the prompts themselves describe the JSON wanted); not an attempt
                    self.structured_output = False
                    self.fallbacks += 1
                    attempt -= 1
                    continue
                why = f"rejected by the server: {exc.message}"
                return Completion(error=why, attempts=attempt + 1)
            except openai.APIStatusError as exc:
                if exc.status_code < 500 and exc.status_code not in _RETRY_STATUS:
                    return Completion(
                        error=f"HTTP {exc.status_code}: {exc.message}", attempts=attempt + 1
                    )
                last = f"HTTP {exc.status_code}"
                await asyncio.sleep(self._wait(attempt, _retry_after(exc)))
                continue
            except openai.APITimeoutError:
                last = f"no answer within {self.settings.timeout_s:g} s"
            except openai.APIConnectionError as exc:
                last = f"connection failed ({exc.__cause__ or exc})"
            else:
                if fmt is not None:
                    self.structured_output = True
                choices = response.choices or []
                content = (choices[0].message.content or "") if choices else ""
                return Completion(content, _usage(response), attempts=attempt + 1)
            await asyncio.sleep(self._wait(attempt, None))
        attempts = self.settings.max_attempts
        return Completion(error=f"gave up after {attempts} attempts: {last}", attempts=attempts)
