"""A loopback web server for sample sites: the offline demo and the test suite's fixtures.

Sites are folders named after their host (``36kr.demo.test/``) under one or more roots;
``http://36kr.demo.test/p/1`` is the file ``<root>/36kr.demo.test/p/1``. Crawls reach the
sites through this server as their HTTP proxy, so pages keep stable, realistic URLs on
the reserved ``.test`` domain whatever port the server got; without the proxy a
``.test`` host never resolves, so nothing leaks to a live site. A direct request
``http://127.0.0.1:PORT/<host>/<path>`` reaches the same files.

File rules: a path ending in ``/`` serves ``index.html``; ``page?k=v`` serves the file
``page@k=v``; a sidecar ``<file>.headers`` (``Name: value`` lines, and optionally
``Status: 404``) sets the response headers. Without one, feeds (``.xml``, ``/feed``,
``/rss``, ``/atom`` or an XML declaration) are ``application/xml`` and everything else
``text/html`` with no charset, as many Chinese sites serve pages.

Fault routes, on any host (modeled on Scrapy's test mock server):

- ``/_fault/status/503``: that status;
- ``/_fault/seq/<key>/503,429r5,.../<path>``: the n-th request for ``<key>`` on this host
  gets the n-th status (``429r5``: 429 with ``Retry-After: 5``), later ones ``<path>``;
- ``/_fault/delay/2/<path>``: waits two seconds, then serves ``<path>``;
- ``/_fault/hang``: never answers; ``/_fault/hang-body/<path>``: headers, then nothing;
- ``/_fault/drop``: closes the connection without an answer;
- ``/_fault/truncate/<path>``: announces the full length, sends half the body;
- ``/_fault/badchunk/<path>``: chunked encoding that breaks off mid-chunk;
- ``/_fault/redirect/<n>/<path>``: n redirects, then ``<path>``; ``/_fault/loop/a``: A→B→A;
  ``/_fault/goto/http/<host:port>/<path>``: a redirect to another host (loopback, say);
  ``/_fault/refresh-self``: a page whose meta refresh points at itself;
- ``/_fault/big/<mb>``: a page of that many megabytes with its length; ``big-chunked``: the
  same with no length; ``gzip-bomb/<mb>``: a small gzip body that inflates to that size.

Generated sites, for load and crash tests: ``/_gen/feed/<n>`` is an RSS feed of n article
links (``?hosts=k`` spreads them over hosts ``h0.<host>`` … ``h<k-1>.<host>``), and
``/_gen/article/<i>`` a deterministic article page.

A sidecar ``Delay: 3`` line makes a file answer after three seconds; a sidecar ``ETag`` or
``Last-Modified`` makes it answer a matching conditional request with 304.

    python -m crawler.sampleserver ROOT [ROOT ...] [--port N] [--log FILE]

prints ``port N`` once it listens, and serves until killed. The log gets a JSON line per
request as it arrives (``id``, ``t``, ``peer``: the client's port, one per connection,
``method``, ``host``, ``path``, ...) and one with ``t_end`` once it is answered.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# A site's folder name: a host name (letters, digits, hyphens, dots between labels).
HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


class SampleSites:
    def __init__(self, roots: list[Path], log: Path | None = None) -> None:
        self.roots = [Path(r) for r in roots]
        self.log = log
        self.lock = threading.Lock()
        self.counters: dict[tuple[str, str], int] = {}

    def next_count(self, host: str, key: str) -> int:
        with self.lock:
            n = self.counters.get((host, key), 0)
            self.counters[(host, key)] = n + 1
            return n

    def record(self, entry: dict) -> None:
        if self.log is None:
            return
        with self.lock, self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")

    def find(self, host: str, path: str, query: str) -> Path | None:
        """The file for a request; a query no file names is ignored, as sites ignore
        tracking parameters."""
        relative = unquote(path).lstrip("/")
        if relative.endswith("/") or relative == "":
            relative += "index.html"
        if query:
            found = self._find(host, relative + "@" + unquote(query))
            if found is not None:
                return found
        return self._find(host, relative)

    def _find(self, host: str, relative: str) -> Path | None:
        if not HOST_NAME.fullmatch(host):
            return None  # a Host header with "../" or "/" in it names no site
        for root in self.roots:
            site = (root / host).resolve()
            candidate = (site / relative).resolve()
            if not candidate.is_relative_to(site):
                return None  # no climbing out of a site with ../
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_file():
                return candidate
        return None


def _content_type(path: Path, relative: str, body: bytes) -> str:
    name = path.name.lower()
    text_path = "/" + relative.lower()
    if (name.endswith((".xml", ".rss", ".atom")) or body.lstrip()[:5] == b"<?xml"
            or any(part in text_path for part in ("/feed", "/rss", "/atom"))):
        return "application/xml"
    if name.endswith(".txt"):
        return "text/plain"
    if name.endswith(".pdf"):
        return "application/pdf"
    if name.endswith((".png", ".jpg", ".jpeg", ".gif", ".webp")):
        return "image/" + name.rsplit(".", 1)[1].replace("jpg", "jpeg")
    if name.endswith(".json"):
        return "application/json"
    return "text/html"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aibrief-sampleserver"
    sites: SampleSites  # set on the subclass made by make_server

    def log_message(self, format: str, *args) -> None:  # quiet: requests go to the log file
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.handle_request(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self.handle_request(send_body=False)

    def handle_request(self, send_body: bool) -> None:
        target = urlsplit(self.path)
        if target.scheme and target.netloc:  # we are the proxy: GET http://host/path
            host, path = (target.hostname or "").lower(), target.path or "/"
        else:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
            path = target.path or "/"
            if host in LOOPBACK:  # direct: /<host>/<path>
                _, _, rest = path.lstrip("/").partition("/")
                host, path = path.lstrip("/").split("/", 1)[0], "/" + rest
        number = self.sites.next_count("", "requests")
        self.sites.record({"id": number, "t": time.time(), "peer": self.client_address[1], "method": self.command,
                           "host": host, "path": path, "query": target.query, "ua": self.headers.get("User-Agent", ""),
                           "if_none_match": self.headers.get("If-None-Match"),
                           "if_modified_since": self.headers.get("If-Modified-Since")})
        try:
            if path.startswith("/_fault/"):
                return self.fault(host, path, target.query, send_body)
            if path.startswith("/_gen/"):
                return self.generated(host, path, target.query, send_body)
            self.serve_file(host, path, target.query, send_body)
        finally:
            # When the answer started to go out: a client cannot have seen it any earlier, so
            # a request for the same host arriving before then was really sent at the same time.
            self.sites.record({"id": number, "t_end": getattr(self, "answered_at", None) or time.time()})
            self.answered_at = None

    def serve_file(self, host: str, path: str, query: str, send_body: bool, truncate: bool = False) -> None:
        found = self.sites.find(host, path, query)
        if found is None:
            return self.answer(404, b"<html><body><h1>404 Not Found</h1></body></html>",
                               {"Content-Type": "text/html; charset=utf-8"}, send_body)
        body = found.read_bytes()
        headers = {"Content-Type": _content_type(found, path, body)}
        status = 200
        sidecar = found.with_name(found.name + ".headers")
        if sidecar.is_file():
            for line in sidecar.read_text("utf-8").splitlines():
                name, _, value = line.partition(":")
                if name.strip().lower() == "status":
                    status = int(value)
                elif name.strip().lower() == "delay":
                    time.sleep(float(value))
                elif name.strip():
                    headers[name.strip()] = value.strip()
        etag, modified = headers.get("ETag"), headers.get("Last-Modified")
        if status == 200 and ((etag and self.headers.get("If-None-Match") == etag)
                              or (modified and self.headers.get("If-Modified-Since") == modified)):
            return self.answer(304, b"", {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")},
                               send_body)
        self.answer(status, body, headers, send_body, truncate=truncate)

    def fault(self, host: str, path: str, query: str, send_body: bool) -> None:
        parts = path.split("/")[2:]
        route = FaultRequest(host, parts[1:], query, send_body)
        handler = FAULT_ROUTES.get(parts[0] if parts else "")
        try:
            if handler is None:
                raise BadRoute
            handler(self, route)
        except BadRoute:
            self.answer(400, b"unknown fault route", {"Content-Type": "text/plain"}, send_body)

    def big(self, kind: str, size: int, send_body: bool) -> None:
        block = b"<p>" + b"x" * 1018 + b"</p>\n"  # 1 KiB of page
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if kind == "gzip-bomb":
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            body = b"".join(packer.compress(block) for _ in range(size // len(block))) + packer.flush()
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        if kind == "big":
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(size // len(block)):
                if kind == "big":
                    self.wfile.write(block)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
            if kind != "big":
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what the size limit is for

    def generated(self, host: str, path: str, query: str, send_body: bool) -> None:
        parts = path.split("/")[2:]
        if len(parts) == 2 and parts[0] == "feed" and parts[1].isdigit():
            hosts = int(dict(p.partition("=")[::2] for p in query.split("&") if p).get("hosts", 0) or 0)
            items = []
            for i in range(int(parts[1])):
                where = f"h{i % hosts}.{host}" if hosts else host
                items.append(f"<item><title>生成的文章 {i}</title><link>http://{where}/_gen/article/{i}</link>"
                             f"<pubDate>{formatdate(1665700000 + 60 * i)}</pubDate></item>")
            body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>生成的源</title>'
                    f"<link>http://{host}/</link><description>x</description>{''.join(items)}</channel></rss>")
            return self.answer(200, body.encode(), {"Content-Type": "application/rss+xml"}, send_body)
        if len(parts) == 2 and parts[0] == "article" and parts[1].isdigit():
            return self.answer(200, generated_article(int(parts[1])), {"Content-Type": "text/html; charset=utf-8"},
                               send_body)
        self.answer(404, b"no such generated page", {"Content-Type": "text/plain"}, send_body)

    def answer(self, status: int, body: bytes, headers: dict[str, str], send_body: bool,
               truncate: bool = False) -> None:
        self.answered_at = time.time()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if send_body:
            self.wfile.write(body[: len(body) // 2] if truncate else body)



# --- fault routes: one small handler each, mounted by name ----------------------------

@dataclass(slots=True)
class FaultRequest:
    """A request for ``/_fault/<name>/<args...>`` on ``host``."""

    host: str
    args: list[str]
    query: str
    send_body: bool

    def number(self, n: int) -> int:
        """Argument ``n`` as a whole number; BadRoute when it is none."""
        if len(self.args) <= n or not self.args[n].isdigit():
            raise BadRoute
        return int(self.args[n])

    def rest(self, skip: int) -> str:
        """The path the route serves after its first ``skip`` arguments."""
        return "/" + "/".join(self.args[skip:])


class BadRoute(Exception):
    """A fault route that does not exist or whose arguments do not fit it (answered 400)."""


HANG_SECONDS = 120  # longer than any crawl timeout a test sets
FaultRoute = Callable[["Handler", FaultRequest], None]
FAULT_ROUTES: dict[str, FaultRoute] = {}
_HTML = {"Content-Type": "text/html"}


def fault_route(name: str) -> Callable[[FaultRoute], FaultRoute]:
    def mount(route: FaultRoute) -> FaultRoute:
        FAULT_ROUTES[name] = route
        return route
    return mount


@fault_route("status")
def _status(handler: Handler, route: FaultRequest) -> None:
    handler.answer(route.number(0), b"<html><body>fault</body></html>", _HTML, route.send_body)


@fault_route("seq")
def _sequence(handler: Handler, route: FaultRequest) -> None:
    """The n-th request for the key gets the n-th status (``429r5``: with Retry-After 5)."""
    if len(route.args) < 2:
        raise BadRoute
    codes = route.args[1].split(",")
    n = handler.sites.next_count(route.host, route.args[0])
    if n >= len(codes):
        return handler.serve_file(route.host, route.rest(2), route.query, route.send_body)
    code, _, wait = codes[n].partition("r")
    if not code.isdigit():
        raise BadRoute
    headers = {**_HTML, **({"Retry-After": wait} if wait else {})}
    handler.answer(int(code), b"<html><body>busy</body></html>", headers, route.send_body)


@fault_route("delay")
def _delay(handler: Handler, route: FaultRequest) -> None:
    try:
        seconds = float(route.args[0]) if route.args else -1.0
    except ValueError:
        raise BadRoute from None
    if not 0 <= seconds <= HANG_SECONDS:
        raise BadRoute
    time.sleep(seconds)
    if route.rest(1).startswith("/_gen/"):
        return handler.generated(route.host, route.rest(1), route.query, route.send_body)
    handler.serve_file(route.host, route.rest(1), route.query, route.send_body)


@fault_route("hang")
def _hang(handler: Handler, route: FaultRequest) -> None:
    time.sleep(HANG_SECONDS)
    handler.close_connection = True


@fault_route("hang-body")
def _hang_body(handler: Handler, route: FaultRequest) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.flush()
    time.sleep(HANG_SECONDS)
    handler.close_connection = True


@fault_route("drop")
def _drop(handler: Handler, route: FaultRequest) -> None:
    handler.close_connection = True


@fault_route("truncate")
def _truncate(handler: Handler, route: FaultRequest) -> None:
    handler.serve_file(route.host, route.rest(0), route.query, route.send_body, truncate=True)


@fault_route("badchunk")
def _bad_chunk(handler: Handler, route: FaultRequest) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.write(b"400\r\n" + b"<html><body><p>" + "断开的分块".encode() * 20)
    handler.wfile.flush()
    handler.close_connection = True


@fault_route("redirect")
def _redirect(handler: Handler, route: FaultRequest) -> None:
    left = route.number(0)
    target = f"/_fault/redirect/{left - 1}{route.rest(1)}" if left > 0 else route.rest(1)
    handler.answer(302, b"", {"Location": f"http://{route.host}{target}"}, route.send_body)


@fault_route("goto")
def _goto(handler: Handler, route: FaultRequest) -> None:
    """``/_fault/goto/<scheme>/<host[:port]>/<path>``: a redirect to that URL, anywhere."""
    if len(route.args) < 2 or route.args[0] not in ("http", "https"):
        raise BadRoute
    target = f"{route.args[0]}://{route.args[1]}{route.rest(2)}"
    handler.answer(302, b"", {"Location": target}, route.send_body)


@fault_route("loop")
def _loop(handler: Handler, route: FaultRequest) -> None:
    if not route.args:
        raise BadRoute
    other = "b" if route.args[0] == "a" else "a"
    handler.answer(302, b"", {"Location": f"http://{route.host}/_fault/loop/{other}"}, route.send_body)


@fault_route("refresh-self")
def _refresh_self(handler: Handler, route: FaultRequest) -> None:
    page = (f'<html><head><meta http-equiv="refresh" content="0; url=http://{route.host}/_fault/refresh-self">'
            "</head><body>稍候</body></html>").encode()
    handler.answer(200, page, {"Content-Type": "text/html; charset=utf-8"}, route.send_body)


def _big_route(kind: str) -> FaultRoute:
    def route_(handler: Handler, route: FaultRequest) -> None:
        handler.big(kind, route.number(0) * 2**20, route.send_body)
    return route_


for _kind in ("big", "big-chunked", "gzip-bomb"):
    fault_route(_kind)(_big_route(_kind))


_TOPICS = ("端侧推理芯片", "自动驾驶域控制器", "模型量化工具链", "边缘视觉模组", "开源推理框架", "车规级NPU",
           "存算一体架构", "低功耗语音识别")


def generated_article(i: int) -> bytes:
    """Article page number i: its own title and text, the same every time."""
    topic = _TOPICS[i % len(_TOPICS)]
    paragraphs = "".join(
        f"<p>第{i}篇报道的第{k}段：一家公司发布了新的{topic}方案，在功耗和性能之间取得了新的平衡，"
        f"工程师介绍了它在第{i * 7 + k}号测试中的表现，并计划在下个季度向更多客户送样。</p>" for k in range(6))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{topic}进展 第{i}篇</title>'
            f"</head><body><div class='nav'><a href='/'>首页</a></div><h1>{topic}进展 第{i}篇</h1>"
            f"<div class='info'>2022年10月{1 + i % 28}日 08:{i % 60:02d} 作者：记者{i % 10}号</div>"
            f"<div class='article'>{paragraphs}</div><div class='footer'>版权所有</div></body></html>").encode()


def make_server(roots: list[Path], port: int = 0, log: Path | None = None) -> ThreadingHTTPServer:
    handler = type("SiteHandler", (Handler,), {"sites": SampleSites(roots, log)})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(roots: list[Path], port: int = 0, log: Path | None = None) -> ThreadingHTTPServer:
    """Start serving in a daemon thread; ``server.server_address[1]`` is the port."""
    server = make_server(roots, port, log)
    threading.Thread(target=server.serve_forever, name="sampleserver", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.sampleserver", description=__doc__.split("\n")[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", type=Path)
    args = parser.parse_args(argv)
    server = make_server(args.roots, args.port, args.log)
    print(f"port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
