"""Fault injection: run a function in a forked child and kill it at its N-th file-system step.

The steps are the calls that change what is on disk — ``os.mkdir``, ``os.open`` (which
creates files), ``os.fsync``, ``os.replace``, ``os.rename``, ``os.unlink``, ``os.rmdir`` —
and, where the caller passes them, its own calls (``kill_points``). At the chosen step the
child leaves with ``os._exit`` before the call runs: no ``finally`` block, no ``except``
handler, no ``atexit`` runs, as under SIGKILL, and no buffered data is flushed. Counting the
steps of an uninterrupted run first (:func:`count_steps`) and then killing at every one of
them tries every point at which a kill can land between two changes on disk.

Forking is used instead of subprocesses because it is cheap (milliseconds) and exact; the
function must not use threads or torch (the batch tests give it a model-free extractor).
"""

from __future__ import annotations

import os
import sys

STEP_FUNCTIONS = ("mkdir", "open", "fsync", "replace", "rename", "unlink", "rmdir")
KILLED = 137


def _run_in_child(function, kill_at: int | None, report_fd: int | None) -> None:
    steps = {"n": 0}

    def step():
        steps["n"] += 1
        if kill_at is not None and steps["n"] == kill_at:
            os._exit(KILLED)

    for name in STEP_FUNCTIONS:
        original = getattr(os, name)

        def patched(*args, _original=original, _name=name, **kwargs):
            if _name != "open" or (len(args) > 1 and args[1] & (os.O_WRONLY | os.O_RDWR
                                                                  | os.O_CREAT)):
                step()
            return _original(*args, **kwargs)

        setattr(os, name, patched)
    try:
        function(step)
        code = 0
    except BaseException as exc:  # noqa: BLE001 - the parent is told, in the exit status
        print(f"child failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 3
    if report_fd is not None:
        os.write(report_fd, str(steps["n"]).encode())
    os._exit(code)


def _fork(function, kill_at: int | None, report: bool = False) -> tuple[int, int | None]:
    read_fd, write_fd = os.pipe() if report else (None, None)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            if read_fd is not None:
                os.close(read_fd)
            _run_in_child(function, kill_at, write_fd)
        finally:
            os._exit(4)
    steps = None
    if report:
        os.close(write_fd)
        with os.fdopen(read_fd) as fh:
            text = fh.read()
        steps = int(text) if text else None
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), steps


def count_steps(function) -> int:
    """How many steps ``function(step)`` takes when nothing kills it (run in a child)."""
    code, steps = _fork(function, None, report=True)
    assert code == 0, f"the uninterrupted run failed in the child (exit {code})"
    return steps


def run_killed_at(function, step: int) -> int:
    """Run ``function(step)`` in a child killed at its ``step``-th step; the exit status
    (:data:`KILLED`, or 0 when it finished before that step)."""
    code, _ = _fork(function, step)
    return code


class Interrupt(Exception):
    """A run stopped mid-way (as by Ctrl-C), raised in-process by the helpers below."""


def failing_on_call(method, call: int):
    """``method`` (e.g. ``Extractor.extract_many``, to patch in with monkeypatch) that
    raises :class:`Interrupt` on its ``call``-th call: a batch killed after ``call - 1``
    chunks, with the chunks before it finished."""
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise Interrupt("killed mid-run")
        return method(self, *args, **kwargs)
    return failing
