"""Render prompt templates from a ``--prompts`` folder with bounded time and memory.

Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` keeps a template away from Python's
internals, but not from using all the time and memory there is: two nested loops over
``range(100000)`` hang ``skillmap generate``, and ``"x" * 10**10`` or a string doubled in a
loop exhausts memory. A prompts folder is data someone else may have written, so
:func:`render` adds the bounds the sandbox leaves out:

- **Time and steps.** While a template renders, a trace function counts the lines its
  compiled code executes and stops it past :data:`MAX_STEPS` lines or :data:`MAX_SECONDS`.
- **Size.** Every value an operator (``+ * ** %``), a filter or a method call builds, and the
  text rendered so far, is held to :data:`MAX_CHARS` characters (checked *before* an
  operation that could build more), numbers given to methods to :data:`MAX_NUMBER`.
- **Fewer ways to grow.** The immutable sandbox (no ``list.append``), filters from an
  allowlist (no ``center``, ``indent``, ``wordwrap``, ``format``, ``replace``), no
  ``lipsum``, no ``~`` concatenation and no ``str.format`` (use ``+`` or ``join``).

The shipped prompts use loops over a handful of skills, ``join`` and ``map``; they render in
microseconds, far inside these bounds. A template past a bound is a
:class:`~skillmap.errors.SkillmapError` naming it.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from skillmap.errors import SkillmapError, exception_line

MAX_SECONDS = 2.0
MAX_STEPS = 1_000_000
MAX_CHARS = 1_000_000
MAX_NUMBER = 100_000
ALLOWED_FILTERS = ("abs", "attr", "batch", "capitalize", "count", "d", "default", "dictsort",
                   "e", "escape", "first", "float", "groupby", "int", "items", "join", "last",
                   "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
                   "reverse", "round", "select", "selectattr", "slice", "sort", "string",
                   "striptags", "sum", "title", "tojson", "trim", "truncate", "unique",
                   "upper", "wordcount")
ALLOWED_GLOBALS = ("range", "dict", "namespace", "cycler", "joiner")
_BLOCKED_METHODS = ("center", "ljust", "rjust", "zfill", "expandtabs", "replace", "translate")


class TemplateLimitError(SecurityError):
    """A template went past one of this module's bounds."""


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict, set)) else 0


def _check_size(value: Any) -> Any:
    if _size(value) > MAX_CHARS:
        raise TemplateLimitError(f"builds a value of more than {MAX_CHARS:,} items")
    return value


def _check_join(items: list, separator: Any = "") -> None:
    """Refuse a join whose result would be too long, before it is built."""
    total = sum(len(str(item)) for item in items) + len(str(separator)) * max(len(items) - 1, 0)
    if total > MAX_CHARS:
        raise TemplateLimitError(f"joins more than {MAX_CHARS:,} characters")


def _bounded_filter(function):
    @functools.wraps(function)  # keeps Jinja's pass_context/pass_eval_context marks
    def bounded(*args, **kwargs):
        return _check_size(function(*args, **kwargs))
    return bounded


def _bounded_join(join):
    @functools.wraps(join)
    def bounded(eval_ctx, value, d="", attribute=None):
        items = list(value)
        _check_join(items, d)
        return join(eval_ctx, items, d, attribute)
    return bounded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with size checks on operators, filters and calls."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, **options):
        super().__init__(**options)
        self.filters = {name: (_bounded_join if name == "join" else _bounded_filter)(
                            self.filters[name]) for name in ALLOWED_FILTERS if name in self.filters}
        self.globals = {name: self.globals[name] for name in ALLOWED_GLOBALS
                        if name in self.globals}

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise TemplateLimitError("raises a number to a power above 64")
        if operator == "%" and isinstance(left, str):
            raise TemplateLimitError("formats a string with %; use + or join")
        if operator == "*":
            count = right if _size(left) else left if _size(right) else None
            if isinstance(count, int) and count * max(_size(left), _size(right)) > MAX_CHARS:
                raise TemplateLimitError(f"repeats a value past {MAX_CHARS:,} items")
        if operator == "+" and _size(left) + _size(right) > MAX_CHARS:
            raise TemplateLimitError(f"builds a value of more than {MAX_CHARS:,} items")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any):
        """``str.format``/``format_map``: refused (a width such as ``{:>1000000000}`` builds
        the string before anything can measure it)."""
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args, **kwargs):
            raise TemplateLimitError("uses str.format; use + or join")
        return refused

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, (str, bytes)) and attr in _BLOCKED_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
                raise TemplateLimitError(f"passes a number above {MAX_NUMBER:,} to a call")
        if getattr(__obj, "__name__", "") == "join" and args:  # str.join
            items = list(args[0])
            _check_join(items, getattr(__obj, "__self__", ""))
            args = (items, *args[1:])
        return _check_size(super().call(__context, __obj, *args, **kwargs))


_ENV = BoundedSandbox(undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=False, lstrip_blocks=False)


@functools.lru_cache(maxsize=256)
def _compile(source: str):
    tree = _ENV.parse(source)
    if next(tree.find_all(nodes.Concat), None) is not None:
        raise TemplateLimitError("uses the ~ operator; use + or join")
    return _ENV.from_string(tree)


def render(source: str, context: dict[str, Any], tag: str) -> str:
    """``source`` rendered with ``context``, within the bounds above; one-line errors."""
    started, steps = time.monotonic(), [0]

    def line(frame, event, arg):
        steps[0] += 1
        if steps[0] > MAX_STEPS or (steps[0] % 1000 == 0
                                    and time.monotonic() - started > MAX_SECONDS):
            raise TemplateLimitError(f"runs longer than {MAX_STEPS:,} steps or "
                                     f"{MAX_SECONDS:g} s")
        return line

    def calls(frame, event, arg):
        return line if frame.f_code.co_filename == "<template>" else None

    previous = sys.gettrace()
    try:
        template = _compile(source)
        parts, size = [], 0
        sys.settrace(calls)
        for piece in template.generate(**context):
            size += len(piece)
            if size > MAX_CHARS:
                raise TemplateLimitError(f"renders more than {MAX_CHARS:,} characters")
            parts.append(piece)
        return "".join(parts)
    except TemplateLimitError as exc:
        raise SkillmapError(f"prompt {tag}: the template {exc}; refusing it") from None
    except TemplateError as exc:
        raise SkillmapError(f"prompt {tag}: {exception_line(exc)}") from None
    except Exception as exc:  # a template's own error (1 + "a", a macro calling itself)
        raise SkillmapError(f"prompt {tag}: {type(exc).__name__}: {exception_line(exc)}"
                            ) from None
    finally:
        sys.settrace(previous)
