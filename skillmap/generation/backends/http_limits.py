"""An HTTP transport for LLM endpoints with a total-time deadline and a size cap per answer.

httpx's timeouts apply to each network operation: a server that sends one byte every second
never trips a 3-second read timeout, and one request took 81 s under ``--timeout 3``. An
answer is also read whole, whatever its size: a 300 MB "completion" took 4.9 GB of memory and
went into the answer cache. :class:`LimitedTransport` is the transport of the ``openai``
client's httpx client and bounds both:

- **Deadline.** Every socket read and write of a request is given at most the time left
  until the request's deadline (``seconds`` after it started), through an httpcore network
  backend, so headers and body together end in time however slowly they drip. Past the
  deadline the request fails with httpx's ``ReadTimeout``, which the client retries like any
  timeout (each try has its own deadline).
- **Size.** The answer is read here, at most ``max_bytes`` of it; a larger one becomes a
  non-retried ``413`` answer saying so, which the backend records as a failed prompt (never
  cached). Compressed answers are not asked for (``Accept-Encoding: identity``) and refused
  if sent anyway, so a small gzip body cannot expand past the cap.

It speaks to httpcore's public API (``ConnectionPool``, or ``HTTPProxy`` behind a proxy, with
a ``network_backend``) and hands httpx a plain :class:`httpx.Response`.

**Proxies.** httpx mounts a transport of its own for a proxy named in the environment
(``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``), which would bypass both bounds.
:func:`limited_client` therefore reads the environment itself (``NO_PROXY`` honoured), routes
the endpoint's requests through the proxy with this transport, and turns httpx's own
environment handling off.
"""

from __future__ import annotations

import json
import threading
import time

import httpcore
import httpx

from skillmap.errors import SkillmapError

DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # a completion of a few hundred tokens is ~10 KB

_local = threading.local()  # the deadline of the request this thread is sending

# httpcore's errors as httpx's, most specific first (the openai client retries these)
_ERRORS = ((httpcore.ConnectTimeout, httpx.ConnectTimeout), (httpcore.ReadTimeout, httpx.ReadTimeout),
           (httpcore.WriteTimeout, httpx.WriteTimeout), (httpcore.PoolTimeout, httpx.PoolTimeout),
           (httpcore.TimeoutException, httpx.TimeoutException),
           (httpcore.ConnectError, httpx.ConnectError), (httpcore.ReadError, httpx.ReadError),
           (httpcore.WriteError, httpx.WriteError), (httpcore.NetworkError, httpx.NetworkError),
           (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
           (httpcore.LocalProtocolError, httpx.LocalProtocolError),
           (httpcore.ProtocolError, httpx.ProtocolError),
           (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol))


def _time_left(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left of this thread's deadline."""
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the answer did not arrive before the request's deadline")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname,
                                                      _time_left(timeout)))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self):
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(self._backend.connect_tcp(host, port, _time_left(timeout),
                                                         local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _DeadlineStream(self._backend.connect_unix_socket(path, _time_left(timeout),
                                                                 socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class LimitedTransport(httpx.BaseTransport):
    """Each request ends within ``seconds`` and reads at most ``max_bytes`` of answer."""

    def __init__(self, seconds: float, max_bytes: int = DEFAULT_MAX_BYTES,
                 proxy: str | None = None):
        self.seconds, self.max_bytes = seconds, max_bytes
        if proxy is None:
            self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                                 network_backend=_DeadlineBackend())
            return
        via = httpx.Proxy(proxy)
        if via.url.scheme not in ("http", "https"):
            raise SkillmapError(f"proxy {via.url.scheme}://{via.url.host}: only http and "
                                "https proxies are supported for LLM endpoints")
        self._pool = httpcore.HTTPProxy(
            proxy_url=httpcore.URL(scheme=via.url.raw_scheme, host=via.url.raw_host,
                                   port=via.url.port, target=via.url.raw_path),
            proxy_auth=via.raw_auth, proxy_headers=via.headers.raw,
            ssl_context=httpx.create_ssl_context(), network_backend=_DeadlineBackend())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        _local.deadline = time.monotonic() + self.seconds
        try:
            response = self._pool.handle_request(core_request)
            try:
                body = self._read(response)
            finally:
                response.close()
        except Exception as exc:
            for core_error, httpx_error in _ERRORS:
                if isinstance(exc, core_error):
                    raise httpx_error(str(exc), request=request) from exc
            raise
        finally:
            _local.deadline = None
        if isinstance(body, str):
            return _refused(body, request)
        headers = [(k, v) for k, v in response.headers
                   if k.lower() not in (b"content-length", b"transfer-encoding")]
        return httpx.Response(response.status, headers=headers, content=body,
                              extensions=response.extensions, request=request)

    def _read(self, response: httpcore.Response) -> bytes | str:
        """The body, or why it is refused."""
        encoding = dict((k.lower(), v) for k, v in response.headers).get(b"content-encoding",
                                                                        b"identity")
        if encoding.strip().lower() != b"identity":
            return f"the server sent a {encoding.decode('latin-1')}-compressed answer"
        body = bytearray()
        for chunk in response.stream:
            body += chunk
            if len(body) > self.max_bytes:
                return f"the answer is larger than {self.max_bytes:,} bytes"
        return bytes(body)

    def close(self) -> None:
        self._pool.close()


def _refused(reason: str, request: httpx.Request) -> httpx.Response:
    """A 413 answer the openai client does not retry, with ``reason`` as its message."""
    payload = {"error": {"message": reason, "type": "response_refused"}}
    return httpx.Response(413, headers={"content-type": "application/json",
                                        "x-should-retry": "false"},
                          content=json.dumps(payload).encode(), request=request)


def environment_proxy(url: str | None) -> str | None:
    """The proxy the environment names for ``url`` (``<scheme>_PROXY``, else ``ALL_PROXY``),
    or None when there is none or ``NO_PROXY`` covers its host."""
    import urllib.request

    if not url:
        return None
    target = httpx.URL(url)
    if urllib.request.proxy_bypass(target.host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(target.scheme) or proxies.get("all")


def limited_client(seconds: float, max_bytes: int = DEFAULT_MAX_BYTES,
                   base_url: str | None = None) -> httpx.Client:
    """An httpx client for the ``openai`` client: :class:`LimitedTransport` (through the
    environment's proxy for ``base_url``, if any), no compression."""
    return httpx.Client(
        transport=LimitedTransport(seconds, max_bytes, environment_proxy(base_url)),
        headers={"Accept-Encoding": "identity"}, timeout=seconds, follow_redirects=False,
        trust_env=False)
