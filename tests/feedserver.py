"""A real HTTP server on 127.0.0.1 for tests and benchmarks.

    server = FeedServer()            # binds a free port, serves in a thread
    server.add("/a.xml", body, content_type="application/rss+xml")
    server.add("/slow", handler)     # handler(req: BaseHTTPRequestHandler) writes the response itself
    server.url("/a.xml")
    server.hits["/a.xml"]            # requests seen per path
    server.close()

Static routes answer conditional GETs (ETag and Last-Modified) with 304 and
gzip the body when the client accepts it, like a well-behaved feed host.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Union

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Static:
    body: bytes
    content_type: str = "application/xml"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # answer If-None-Match / If-Modified-Since with 304
    gzip: bool = True
    etag: str = ""
    last_modified: str = ""

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        self.last_modified = formatdate(usegmt=True)


Route = Union[Static, Handler]


def send(req: BaseHTTPRequestHandler, status: int, body: bytes = b"",
         headers: dict[str, str] | None = None, content_type: str = "application/rss+xml") -> None:
    """Write one whole response (status, headers, Content-Length, body); handlers use it too."""
    req.send_response(status)
    req.send_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        req.send_header(k, v)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    if body:
        req.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up (timeouts, size limits) is expected here, not worth a traceback


class FeedServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers) in arrival order
        self._lock = threading.Lock()
        owner = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                with owner._lock:
                    owner.hits[path] += 1
                    owner.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = owner.routes.get(path) or owner.routes.get(self.path)
                try:
                    if route is None:
                        send(self, 404, b"not found", content_type="text/plain")
                    elif isinstance(route, Static):
                        self._static(route)
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _static(self, r: Static) -> None:
                headers = dict(r.headers)
                if r.conditional:
                    headers.setdefault("ETag", r.etag)
                    headers.setdefault("Last-Modified", r.last_modified)
                    inm = self.headers.get("If-None-Match")
                    ims = self.headers.get("If-Modified-Since")
                    if (inm and inm == r.etag) or (not inm and ims and ims == r.last_modified):
                        self.send_response(304)
                        for k, v in headers.items():
                            self.send_header(k, v)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                body = r.body
                if r.gzip and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                    body = gzip.compress(body, compresslevel=5)
                    headers["Content-Encoding"] = "gzip"
                send(self, r.status, body, headers, r.content_type)

        self.handler_class = RequestHandler
        self._httpd = _Server((host, port), RequestHandler)
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def add(self, path: str, route: Route | bytes | str, **kwargs: object) -> str:
        """Serve *route* at *path*; bytes or str become a Static route. Returns the URL."""
        if isinstance(route, str):
            route = route.encode("utf-8")
        if isinstance(route, bytes):
            route = Static(route, **kwargs)  # type: ignore[arg-type]
        self.routes[path] = route
        return self.url(path)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FeedServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
