"""Run the `skillmap` CLI in-process (the model loads once per test session) and check its
one-line errors."""

from __future__ import annotations

from skillmap.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``skillmap ARGS``."""
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str, *needles: str) -> None:
    """Exit status 2 and exactly one ``skillmap: error:`` line holding every needle."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skillmap: error:"), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
