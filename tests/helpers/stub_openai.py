"""A scripted OpenAI-compatible chat endpoint on 127.0.0.1, for tests of the real client.

``StubOpenAI`` serves ``POST /v1/chat/completions``. Each call consumes the next entry of
``script`` (``"ok"`` when the script is empty):

- ``"ok"``: 200 with ``{"sentences": [...]}`` — deterministic sentences derived from the
  request, so the same prompt and seed always get the same answer;
- ``"429"`` / ``"500"`` / ``"401"``: that status (429 with ``retry-after-ms: 1``);
- ``"malformed"``: 200 whose content is not JSON; ``"truncated"``: cut-off JSON with
  ``finish_reason: length``; ``"refusal"``: a refusal message; ``"echo"``: ok sentences
  that quote the bearer token the request carried;
- ``"sleep:S"``: wait S seconds, then answer ok (provokes client timeouts);
- ``"block"``: hold the connection until :meth:`release` (to kill a client mid-call);
- ``"html"`` / ``"binary"``: 200 with an HTML page / random bytes instead of JSON;
  ``"shape:JSON"``: 200 with that JSON body (a wrong shape); ``"bytes:HEX"``: 200 with
  those bytes as a JSON answer; ``"huge:N"``: 200 whose answer
  holds N bytes of sentence text; ``"drip:S"``: a valid answer sent one byte every S seconds;
  ``"gzip-bomb"``: a small gzip body that expands to 1 GB.

``calls`` counts requests received; ``answered`` lists the (prompt hash) of every request
that got a complete ok answer. ``secret_echo`` is put into 401 messages; ``echo_auth=True``
echoes the bearer token each request carried into every error message, every malformed,
truncated or refused answer and an ``x-echo`` response header (a leak test's worst server).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubOpenAI:
    def __init__(self, script=(), secret_echo: str = "", echo_auth: bool = False):
        self.script = list(script)
        self.echo_auth = echo_auth
        self.tokens: list[str] = []
        self.calls = 0
        self.answered: list[str] = []
        self.bodies: list[dict] = []
        self.paths: list[str] = []  # request targets (absolute URLs when it is a proxy)
        self.secret_echo = secret_echo
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.blocked = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                token = self.headers.get("authorization", "").removeprefix("Bearer ")
                with stub._lock:
                    stub.calls += 1
                    stub.bodies.append(body)
                    stub.paths.append(self.path)
                    stub.tokens.append(token)
                    action = stub.script.pop(0) if stub.script else "ok"
                stub._serve(self, body, action, token)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "StubOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def release(self) -> None:
        self._release.set()

    @staticmethod
    def prompt_hash(body: dict) -> str:
        key = json.dumps([body.get("messages"), body.get("seed")], sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def _serve(self, handler, body: dict, action: str, token: str = "") -> None:
        echo = f" (your key: {token})" if self.echo_auth else ""
        extra = {"x-echo": token} if self.echo_auth else {}
        if action == "block":
            self.blocked.set()
            self._release.wait(timeout=60)
            return  # the client was killed meanwhile; answer nothing
        if action.startswith("sleep:"):
            time.sleep(float(action.split(":", 1)[1]))
            action = "ok"
        if action in ("html", "binary", "gzip-bomb") or action.startswith(("shape:", "drip:",
                                                                              "bytes:")):
            return self._serve_odd(handler, action)
        if action in ("429", "500", "401"):
            message = "rate limited" if action == "429" else "server error"
            if action == "401":
                message = f"invalid api key {self.secret_echo}"
            payload = {"error": {"message": message + echo, "type": "stub", "code": action}}
            headers = {"retry-after-ms": "1"} if action == "429" else {}
            return _send(handler, int(action), payload, {**headers, **extra})
        h = self.prompt_hash(body)
        user = body["messages"][-1]["content"]
        wanted = re.search(r"Write (\d+)", user)
        n = int(wanted.group(1)) if wanted else 1
        # each sentence of a request worded apart, so the near-duplicate check keeps them all
        openings = ("you will do the work we describe", "we expect careful reports every week",
                    "a plus is experience with our tools", "tasks include planning the schedule")
        sentences = [f"Stub sentence {k + 1} of request {h}: {openings[k % len(openings)]}."
                     for k in range(n)]
        content, finish, refusal = json.dumps({"sentences": sentences}), "stop", None
        if action.startswith("huge:"):
            content = json.dumps({"sentences": ["We need Python. " * (int(action[5:]) // 16)]})
        if action == "malformed":
            content = "Sure! Here are your sentences: sentence one, sentence two" + echo
        elif action == "truncated":
            content, finish = content[: len(content) // 2] + echo, "length"
        elif action == "refusal":
            content, refusal = None, "I can't help with that." + echo
        elif action == "echo":  # valid JSON whose sentences carry the caller's key
            content = json.dumps({"sentences": [f"{s[:-1]}, said the server that saw {token}."
                                                for s in sentences]})
        response = {
            "id": f"chatcmpl-{h}", "object": "chat.completion", "created": 0,
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content,
                                     "refusal": refusal}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20 * n,
                      "total_tokens": 100 + 20 * n},
        }
        _send(handler, 200, response, extra)
        if action == "ok":
            with self._lock:
                self.answered.append(h)


    def _serve_odd(self, handler, action: str) -> None:
        """Answers that are 200 but not a chat completion, or sent too slowly."""
        import os

        kind, headers = "application/json", {}
        if action == "html":
            kind, data = "text/html", b"<html><body><h1>Welcome to nginx!</h1></body></html>"
        elif action == "binary":
            kind, data = "application/octet-stream", os.urandom(2048)
        elif action == "gzip-bomb":
            data, headers = _gzip_bomb(), {"content-encoding": "gzip"}
        elif action.startswith("shape:"):
            data = action[6:].encode()
        elif action.startswith("bytes:"):
            data = bytes.fromhex(action[6:])
        else:  # drip: a whole valid answer, slowly
            data = json.dumps({"id": "x", "object": "chat.completion", "created": 0,
                               "model": "stub", "choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant",
                                           "content": '{"sentences": ["We need Python."]}'}}]}
                              ).encode()
        try:
            handler.send_response(200)
            handler.send_header("content-type", kind)
            handler.send_header("content-length", str(len(data)))
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            if action.startswith("drip:"):
                pause = float(action[5:])
                for position in range(len(data)):
                    handler.wfile.write(data[position:position + 1])
                    handler.wfile.flush()
                    if self._release.wait(pause):
                        return
            else:
                handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


@functools.lru_cache(maxsize=1)
def _gzip_bomb() -> bytes:
    """~250 KB of gzip that expands to 256 MB."""
    import gzip

    return gzip.compress(b"0" * (256 << 20), compresslevel=9)


def _send(handler, status: int, payload: dict, headers: dict | None = None) -> None:
    data = json.dumps(payload).encode()
    try:
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
