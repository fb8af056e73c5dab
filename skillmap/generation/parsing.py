"""Turn a model's raw answer into sentences, or say precisely why it cannot.

Chat models are asked for ``{"sentences": [...]}``. Real answers wrap that in code fences,
add a sentence before it, return a bare list, or are cut off at the token limit; the first
three are recovered, a truncated or otherwise invalid answer is a :class:`ParseError` that the
backend retries and, failing that, records as a failed request.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, ValidationError

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


class ParseError(ValueError):
    """The answer holds no valid ``{"sentences": [...]}`` payload."""


class SentencesPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sentences: list[str]


def parse_sentences(text: str | None) -> list[str]:
    """The sentences of a JSON answer (``{"sentences": [...]}`` or a bare JSON list)."""
    if text is None or not text.strip():
        raise ParseError("empty answer")
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    data = first_json_value(body)
    if isinstance(data, list):
        data = {"sentences": data}
    try:
        return SentencesPayload.model_validate(data).sentences
    except ValidationError as exc:
        raise ParseError(f"unexpected JSON shape: {exc.errors()[0]['msg']}") from None


def first_json_value(body: str):
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        pass
    starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
    if starts:
        try:
            value, _ = json.JSONDecoder().raw_decode(body[min(starts):])
            return value
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON ({exc.msg} at char {exc.pos})") from None
    raise ParseError("no JSON in the answer")


def first_line(text: str) -> str:
    """A base model's continuation up to its first line break: one sentence."""
    return text.strip().split("\n", 1)[0].strip()
