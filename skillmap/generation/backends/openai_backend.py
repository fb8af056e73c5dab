"""Any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp's llama-server).

Transport failures are the ``openai`` client's job: it retries 408/409/429/5xx answers,
connection errors and timeouts with exponential backoff (honouring ``Retry-After``) up to
``max_retries`` times. This module adds what the client cannot know: an answer that arrives
but is not the JSON we asked for (truncated, invalid, a refusal) is asked again with a new
seed up to ``parse_retries`` times, then recorded as a failed request. Requests run on a
bounded thread pool (``concurrency``). Credentials that cannot work (401/403, unknown model)
stop the run at once instead of failing every request.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Iterator, Sequence

from skillmap.errors import SkillmapError
from skillmap.generation.backends.base import AnswerHook, Backend, Completion, Job
from skillmap.generation.backends.http_limits import DEFAULT_MAX_BYTES, limited_client
from skillmap.generation.parsing import ParseError, parse_sentences
from skillmap.generation.sampling import GenerationRequest
from skillmap.generation.prompts import PromptTemplate


class OpenAIBackend(Backend):
    """Chat completions with JSON output through the official ``openai`` client."""

    name = "openai"

    def __init__(self, model: str | None = None, base_url: str | None = None,
                 api_key: str | None = None, language: str = "en", concurrency: int = 4,
                 timeout: float = 60.0, max_retries: int = 5, parse_retries: int = 2,
                 temperature: float = 0.9, max_tokens: int = 600, json_mode: bool = True,
                 max_answer_bytes: int = DEFAULT_MAX_BYTES):
        super().__init__(language)
        import openai

        self._openai = openai
        self._model = model or os.environ.get("OPENAI_MODEL", "")
        if not self._model:
            raise SkillmapError("the openai backend needs a model: pass --model or set "
                                "OPENAI_MODEL")
        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key:
            if base_url is None:
                raise SkillmapError("the openai backend needs OPENAI_API_KEY (or --base-url "
                                    "for a local server that needs no key)")
            api_key = "no-key"  # local servers (Ollama, vLLM, llama-server) ignore it
        self._secret = api_key
        self.base_url = base_url
        self.concurrency = max(1, concurrency)
        self.parse_retries = max(0, parse_retries)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.json_mode = json_mode
        # --timeout is each try's total time, however slowly the answer drips, and an answer
        # over max_answer_bytes is refused unread (http_limits)
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout,
                                     max_retries=max_retries,
                                     http_client=limited_client(
                                         timeout, max_answer_bytes,
                                         base_url or "https://api.openai.com/v1"))

    @property
    def model(self) -> str:
        return self._model

    def cache_params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens,
                "json_mode": self.json_mode}

    def generate(self, jobs: Sequence[Job], on_answer: AnswerHook | None = None
                 ) -> Iterator[tuple[int, Completion]]:
        """Answers as they arrive; meanwhile the HTTP libraries' log records have the API key
        masked (their DEBUG logs show what the server sent back). ``on_answer`` runs in the
        worker thread, before that worker sends its next request."""
        from skillmap.security import masked_in_logs

        def answer(position: int, request: GenerationRequest,
                   template: PromptTemplate) -> Completion:
            completion = self._complete(request, template)
            if on_answer is not None:
                on_answer(position, completion)
            return completion

        with masked_in_logs(self._secret if self._secret != "no-key" else None), \
                ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(answer, i, request, template): i
                       for i, (request, template) in enumerate(jobs)}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:
                for future in futures:
                    future.cancel()

    def _complete(self, request: GenerationRequest, template: PromptTemplate) -> Completion:
        """One request; whatever the server sent back is stripped of the API key before it
        can reach the corpus, the cache, the report or a message."""
        result = self._ask(request, template)
        if result.error is not None:
            result.error = self._mask(result.error)
        result.sentences = [self._mask(s) if isinstance(s, str) else s
                            for s in result.sentences]
        return result

    def _ask(self, request: GenerationRequest, template: PromptTemplate) -> Completion:
        messages = self.rendered_prompt(request, template)
        result = Completion(attempts=0)
        for attempt in range(self.parse_retries + 1):
            result.attempts = attempt + 1
            try:
                response = self._client.chat.completions.create(
                    model=self.model, messages=messages, temperature=self.temperature,
                    max_tokens=self.max_tokens, seed=request.seed + attempt,
                    **({"response_format": {"type": "json_object"}} if self.json_mode else {}))
            except (self._openai.AuthenticationError, self._openai.PermissionDeniedError,
                    self._openai.NotFoundError) as exc:
                raise SkillmapError(f"the endpoint refused the request ({self._describe(exc)}); "
                                    "check --base-url, --model and OPENAI_API_KEY") from None
            except self._openai.APIError as exc:
                # the client already retried what is worth retrying (429, 5xx, timeouts)
                result.error = self._describe(exc)
                return result
            except (ValueError, TypeError) as exc:  # a 200 body the client cannot decode
                result.error = f"the answer is not a chat completion ({self._describe(exc)})"
                continue
            try:
                if self._read_answer(response, result):
                    return result
            except (AttributeError, TypeError, IndexError, KeyError, ValueError):
                # a 200 that is HTML, bytes or JSON of another shape: the client hands it
                # back unvalidated; a failed prompt, not the end of the run
                result.error = (f"the answer is not a chat completion "
                                f"({type(response).__name__}: {ascii(str(response)[:60])})")
        return result

    @staticmethod
    def _read_answer(response, result: Completion) -> bool:
        """Fill ``result`` from a chat completion; whether it holds the sentences."""
        if response.usage is not None:
            result.prompt_tokens += int(response.usage.prompt_tokens or 0)
            result.completion_tokens += int(response.usage.completion_tokens or 0)
        if not response.choices:
            result.error = "answer without choices"
            return False
        choice = response.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            result.error = f"refused: {str(refusal)[:120]}"
            return False
        content = choice.message.content
        if content is not None and not isinstance(content, str):
            raise TypeError("content is not text")
        try:
            result.sentences = parse_sentences(content)
            result.error = None
            return True
        except ParseError as exc:
            cut = " (cut off at max_tokens)" if choice.finish_reason == "length" else ""
            result.error = f"{exc}{cut}"
            return False

    def chat(self, messages: list[dict[str, str]], seed: int) -> tuple[str | None, str, int, int]:
        """One chat completion for callers with their own answer format (sentence labelling):
        ``(content or None, finish reason, prompt tokens, completion tokens)``. Transport
        errors after the client's retries raise ``openai.APIError``; the content is masked."""
        from skillmap.security import masked_in_logs

        with masked_in_logs(self._secret if self._secret != "no-key" else None):
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=self.temperature,
                max_tokens=self.max_tokens, seed=seed,
                **({"response_format": {"type": "json_object"}} if self.json_mode else {}))
        try:
            usage = response.usage
            if not response.choices:
                return None, "empty", 0, 0
            choice = response.choices[0]
            content = choice.message.content
            if content is not None and not isinstance(content, str):
                raise TypeError("content is not text")
            return (None if content is None else self._mask(content), choice.finish_reason or "",
                    int(usage.prompt_tokens or 0) if usage else 0,
                    int(usage.completion_tokens or 0) if usage else 0)
        except (AttributeError, TypeError, IndexError, KeyError, ValueError):
            return None, "not a chat completion", 0, 0  # a 200 of HTML, bytes or another shape

    def _mask(self, text: str) -> str:
        from skillmap.security import mask_secret

        return mask_secret(text, self._secret if self._secret != "no-key" else None)

    def _describe(self, exc: Exception) -> str:
        """An error message with the API key masked, whatever the server echoed back."""
        return self._mask(" ".join(f"{type(exc).__name__}: {exc}".split()))[:300]

    def close(self) -> None:
        self._client.close()
