"""Command-line choices taken from a registry, so a name is listed in one place only.

typer offers an ``Enum``'s values as an option's choices; :func:`choices` builds that
``Enum`` from a registry's names (``onnx-int8`` becomes the member ``onnx_int8`` with the
value ``"onnx-int8"``), so adding a backend to its registry adds it to the CLI.
"""

from __future__ import annotations

from enum import Enum
from typing import Iterable


def choices(name: str, names: Iterable[str]) -> type[Enum]:
    """A ``str`` Enum called ``name`` whose values are ``names``, in order."""
    return Enum(name, {value.replace("-", "_"): value for value in names}, type=str)
