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
``/_fault/status/503`` answers that status; ``/_fault/delay/2/<path>`` waits two seconds
and then serves ``<path>``; ``/_fault/drop`` closes the connection without an answer;
``/_fault/truncate/<path>`` announces the full length and sends half the body.

    python -m crawler.sampleserver ROOT [ROOT ...] [--port N] [--log FILE]

prints ``port N`` once it listens, and serves until killed.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class SampleSites:
    def __init__(self, roots: list[Path], log: Path | None = None) -> None:
        self.roots = [Path(r) for r in roots]
        self.log = log
        self.lock = threading.Lock()

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
        self.sites.record({"t": time.time(), "method": self.command, "host": host, "path": path,
                           "query": target.query, "ua": self.headers.get("User-Agent", ""),
                           "if_none_match": self.headers.get("If-None-Match"),
                           "if_modified_since": self.headers.get("If-Modified-Since")})
        if path.startswith("/_fault/"):
            return self.fault(host, path, target.query, send_body)
        self.serve_file(host, path, target.query, send_body)

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
                elif name.strip():
                    headers[name.strip()] = value.strip()
        self.answer(status, body, headers, send_body, truncate=truncate)

    def fault(self, host: str, path: str, query: str, send_body: bool) -> None:
        parts = path.split("/")[2:]
        kind = parts[0] if parts else ""
        if kind == "status" and len(parts) > 1 and parts[1].isdigit():
            return self.answer(int(parts[1]), b"<html><body>fault</body></html>",
                               {"Content-Type": "text/html"}, send_body)
        if kind == "delay" and len(parts) > 1:
            time.sleep(float(parts[1]))
            return self.serve_file(host, "/" + "/".join(parts[2:]), query, send_body)
        if kind == "drop":
            self.close_connection = True
            return
        if kind == "truncate":
            return self.serve_file(host, "/" + "/".join(parts[1:]), query, send_body, truncate=True)
        self.answer(400, b"unknown fault route", {"Content-Type": "text/plain"}, send_body)

    def answer(self, status: int, body: bytes, headers: dict[str, str], send_body: bool,
               truncate: bool = False) -> None:
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
