"""JSON answers: the ``response_format`` to request them and the parser that reads them back,
also from servers that ignore structured output (code fences, text around the object)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from medbench.llm.outputs import output_schema


class OutputProblem(ValueError):
    """An answer that is not the requested JSON; the message is fed back to the model."""


def response_format(output: str) -> dict[str, Any]:
    """OpenAI / vLLM ``response_format`` asking for JSON valid against the named output."""
    return {
        "type": "json_schema",
        "json_schema": {"name": output, "schema": output_schema(output), "strict": False},
    }


def _json_object(text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith("```"):  # ```json ... ``` fences from chat-tuned models
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    start, end = stripped.find("{"), stripped.rfind("}")
    if start == -1 or end <= start:
        raise OutputProblem("the answer holds no JSON object")
    try:
        return json.loads(stripped[start : end + 1])
    except json.JSONDecodeError as exc:
        raise OutputProblem(f"the answer is not valid JSON ({exc.msg} at char {exc.pos})") from None


def parse_output(text: str, model: type[BaseModel], variables: dict[str, Any]) -> BaseModel:
    """The validated output, or OutputProblem saying (in one line) what is wrong."""
    data = _json_object(text)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors()
        )
        raise OutputProblem(details) from None
    problems = parsed.problems(variables) if hasattr(parsed, "problems") else []
    if problems:
        raise OutputProblem("; ".join(problems))
    return parsed


def repair_messages(
    messages: list[dict[str, str]], answer: str, problem: str
) -> list[dict[str, str]]:
    """The conversation plus the bad answer and what was wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        {
            "role": "user",
            "content": f"That answer cannot be used: {problem}. Reply again with only the "
            "corrected JSON object.",
        },
    ]
