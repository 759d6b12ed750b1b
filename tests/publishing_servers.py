"""Loopback servers for the publishing tests: an HTTP server that records every request
and answers by named fault routes, an SMTP server with STARTTLS and AUTH, and issues
stored in a real archive to publish.

Routes are the first path segment, one small class each (a registry, not an if-chain):
``/ok/CHANNEL/...`` answers as the channel's vendor does on success, ``/500/...`` always
fails, ``/slow/...`` answers after longer than the tests' timeout, ``/429/...`` asks to
retry after a while once, then succeeds, ``/flaky/...`` fails twice and then succeeds,
and ``/img/NAME`` serves a small PNG.
"""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipelines.archive.db import connect
from pipelines.editorial.issues import IssueItem, store_published

# A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
# What each vendor answers to a message it took.
SUCCESS = {"feishu": (b'{"code":0,"msg":"success","data":{}}', "application/json"),
           "dingtalk": (b'{"errcode":0,"errmsg":"ok"}', "application/json"),
           "wecom": (b'{"errcode":0,"errmsg":"ok"}', "application/json"),
           "slack": (b"ok", "text/plain"),
           "telegram": (b'{"ok":true,"result":{"message_id":1}}', "application/json"),
           "webhook": (b'{"received":true}', "application/json")}
SLOW_SECONDS = 0.8  # longer than the tests' publish.timeout (0.3 s)
RETRY_AFTER = 3


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Route:
    def answer(self, server: RecordingServer, request: Recorded, rest: list[str]) -> tuple[int, dict, bytes]:
        raise NotImplementedError


def _success(rest: list[str]) -> tuple[int, dict, bytes]:
    body, kind = SUCCESS[rest[0] if rest and rest[0] in SUCCESS else "webhook"]
    return 200, {"Content-Type": kind}, body


class Ok(Route):
    def answer(self, server, request, rest):
        return _success(rest)


class ServerError(Route):
    def answer(self, server, request, rest):
        return 500, {"Content-Type": "text/plain"}, b"internal error"


class Slow(Route):
    def answer(self, server, request, rest):
        time.sleep(SLOW_SECONDS)
        return _success(rest)


class RateLimited(Route):
    """429 with Retry-After on the first request to a path, then success."""

    def answer(self, server, request, rest):
        if server.count(request.path) == 1:
            return 429, {"Retry-After": str(RETRY_AFTER), "Content-Type": "text/plain"}, b"slow down"
        return _success(rest)


class Flaky(Route):
    """500 on the first two requests to a path, then success."""

    def answer(self, server, request, rest):
        if server.count(request.path) <= 2:
            return 500, {"Content-Type": "text/plain"}, b"try later"
        return _success(rest)


class Image(Route):
    def answer(self, server, request, rest):
        return 200, {"Content-Type": "image/png"}, PNG


ROUTES: dict[str, Route] = {"ok": Ok(), "500": ServerError(), "slow": Slow(), "429": RateLimited(), "flaky": Flaky(),
                            "img": Image()}


@dataclass
class RecordingServer:
    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.path == path)

    def to(self, prefix: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(prefix)]


def start_recording_server() -> tuple[RecordingServer, ThreadingHTTPServer]:
    state = RecordingServer()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()),
                               self.rfile.read(length))
            with state.lock:
                state.requests.append(request)
            segments = [s for s in parts.path.split("/") if s]
            route = ROUTES.get(segments[0] if segments else "", ServerError())
            status, headers, body = route.answer(state, request, segments[1:])
            self.send_response(status)
            for key, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(key, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout route)

        do_GET = do_POST = _handle  # noqa: N815 (http.server's handler names)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state, server


# --- SMTP --------------------------------------------------------------------------------------

SMTP_USER, SMTP_PASSWORD = "digest", "s3cret-pass"


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the cryptography package."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Mailbox:
    messages: list[dict] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (user, accepted)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.content,
                              "tls": session.ssl is not None, "authenticated": session.authenticated})
        return "250 OK"


def start_smtp_server(folder: Path) -> tuple[Controller, Mailbox, Path]:
    """aiosmtpd on a free loopback port: STARTTLS required, then AUTH (one user)."""
    cert, key = self_signed_cert(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER
              and auth_data.password.decode() == SMTP_PASSWORD)
        mailbox.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False)

    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticate, auth_require_tls=True)
    controller.start()
    return controller, mailbox, cert


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- issues to publish --------------------------------------------------------------------------

WECHAT_ARTICLE = "https://mp.weixin.qq.com/s/AbCdEf123"


def sample_items(image_url: str | None = None, summary_repeat: int = 1) -> list[IssueItem]:
    long = "这款芯片把推理功耗降到一瓦以内，面向摄像头与机器人。" * summary_repeat
    return [
        IssueItem(position=1, title="地平线发布征程 6 芯片 <b>旗舰</b>", url="https://news.example.com/j6?id=1&x=2",
                  summary=long + "\n第二段：量产时间定在明年。", section="AI 芯片", topics=["AI 芯片"], source="示例新闻",
                  links=[{"role": "paper", "url": "https://arxiv.org/abs/2401.00001"}], rank=1, image=image_url,
                  language="zh"),
        IssueItem(position=2, title="Qwen 小模型跑在手机上", url=WECHAT_ARTICLE, summary="端侧部署的经验。" * summary_repeat,
                  section="端侧与嵌入式 AI", topics=["端侧与嵌入式 AI"], source="量子位", rank=2, language="zh"),
        IssueItem(position=3, title="TinyML on a microcontroller", url="https://blog.example.org/tinyml",
                  summary="Keyword spotting in 20 KB of RAM. " * summary_repeat, section="端侧与嵌入式 AI",
                  topics=["端侧与嵌入式 AI"], source="Example Blog",
                  links=[{"role": "code", "url": "https://github.com/example/tinyml"}], rank=3, language="en"),
    ]


def store_issue(db_path: Path, day: dt.date, *, status: str = "draft", items: list[IssueItem] | None = None,
                headline: str | None = None):
    """An issue of ``day`` in the archive at ``db_path``: stored as an import would, then
    turned back into a draft unless ``status`` is "published"."""
    db = connect(db_path)
    try:
        issue, _ = store_published(db, day, title=f"AI 簡報 {day:%Y%m%d} 期", section="嵌入式 AI",
                                   headline=headline or f"【AI簡報{day:%Y%m%d}】地平线发布征程 6、Qwen 小模型",
                                   items=items if items is not None else sample_items())
        if status == "draft":
            db.execute("UPDATE issues SET status = 'draft', published_at = NULL WHERE id = ?", [issue.id])
            db.conn.commit()
        return issue
    finally:
        db.close()
