"""The on-disk LLM answer cache: one SQLite file, keyed by the request hash.

Every successful answer is committed the moment it arrives, so a run that is killed, crashes
or loses its network resumes without paying for any answer twice, and a re-run with the same
options is reproducible (it reads the same answers back). Failed requests are never cached:
re-running retries exactly those. SQLite gives atomic commits, so a kill mid-write leaves the
previous state, never a torn entry.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from skillmap.errors import SkillmapError
from skillmap.generation.backends.base import Completion


class ResponseCache:
    """``get(key)`` / ``put(key, completion)`` over a SQLite file; safe across threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, "
                             "answer TEXT NOT NULL, created TEXT DEFAULT CURRENT_TIMESTAMP)")
        except sqlite3.Error as exc:
            raise SkillmapError(f"cannot open the LLM cache {self.path}: {exc}") from None
        self._lock = threading.Lock()

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return Completion.from_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            return None  # an unreadable entry is treated as missing and re-fetched

    def put(self, key: str, completion: Completion) -> None:
        if not completion.ok:
            return
        payload = json.dumps(completion.to_json(), ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers (key, answer) VALUES (?, ?)",
                             (key, payload))

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
