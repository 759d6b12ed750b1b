"""What each delivery channel is sent: the issue as blocks of text and links, written out in
the channel's documented message format, signed where the channel signs, and cut to the
channel's documented size.

An issue goes out whole (``sends = "issue"``: its sections, entries, links and summaries)
or as a summary (``sends = "summary"``: the headline, the top N entries and a link to the
issue's page in the archive). A whole issue longer than the channel takes is split into
numbered messages at entry boundaries; a summary is trimmed, entries from the end, to what
fits with the link to the archive page.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from urllib.parse import quote_plus

from pipelines.editorial.publishing.outline import INSIGHTS_HEADING, MOMENTS_HEADING, Outline
from pipelines.editorial.publishing.settings import Output


@dataclass(slots=True, frozen=True)
class Run:
    text: str
    url: str = ""
    bold: bool = False


HEADING, TEXT, QUOTE = "heading", "text", "quote"
Block = tuple[str, tuple[Run, ...]]
Group = list[Block]  # blocks that stay in one message (an entry and its lines)


class MessageTooLong(Exception):
    """Even one entry, cut to its title and a link, is over the channel's limit."""


def message_groups(outline: Outline, sends: str, top: int, archive_url: str) -> tuple[Group, list[Group], Group]:
    """The message's head (title, headline), its groups, and its tail (the archive link)."""
    head: Group = [(HEADING, (Run(outline.title),))]
    if outline.headline:
        head.append((TEXT, (Run(outline.headline),)))
    tail: Group = [(TEXT, (Run("在存档中阅读全文：" if sends == "summary" else "存档："), Run(archive_url, archive_url)))] \
        if archive_url else []
    groups: list[Group] = []
    if sends == "summary":
        for entry in outline.entries[:top]:
            groups.append([(TEXT, (Run(f"{entry.number}. "), Run(entry.title, entry.url)))])
        return head, groups, tail
    for section in outline.sections:
        first = True
        for entry in section.entries:
            group: Group = [(HEADING, (Run(section.name),))] if first and section.name else []
            first = False
            group.append((TEXT, (Run(f"{entry.mark or str(entry.number) + '.'} {entry.title}", bold=True),)))
            if entry.links:
                runs: list[Run] = []
                for label, url in entry.links:
                    runs += [Run(" · ")] if runs else []
                    runs.append(Run(label, url))
                group.append((TEXT, tuple(runs)))
            group += [(QUOTE, (Run(paragraph),)) for paragraph in entry.summary]
            groups.append(group)
    if outline.insights:
        groups.append([(HEADING, (Run(INSIGHTS_HEADING),))]
                      + [(TEXT, (Run(f"{n}. {text}"),)) for n, text in enumerate(outline.insights, start=1)])
    if outline.moments:
        groups.append([(HEADING, (Run(MOMENTS_HEADING),))] + [(TEXT, (Run(line),)) for line in outline.moments])
    return head, groups, tail


def split_or_trim(head: Group, groups: list[Group], tail: Group, sends: str,
                  fits: Callable[[list[Block]], bool]) -> list[list[Block]]:
    """The messages to send: one when it fits; else a summary trimmed from the end, or the
    whole issue in as many messages as it takes (head in the first, tail in the last)."""
    whole = head + [b for g in groups for b in g] + tail
    if fits(whole):
        return [whole]
    if sends == "summary":
        kept = list(groups)
        while kept and not fits(head + [b for g in kept for b in g] + tail):
            kept.pop()
        if not fits(head + [b for g in kept for b in g] + tail):
            raise MessageTooLong("the headline and the archive link alone are over the channel's limit")
        return [head + [b for g in kept for b in g] + tail]
    messages: list[list[Block]] = []
    current = list(head)
    for group in groups:
        if not fits(group):  # one entry longer than a message: its title and the archive link
            group = group[:1] + (tail or [(TEXT, (Run("……"),))])
            if not fits(group):
                raise MessageTooLong("one entry, cut to its title, is over the channel's limit")
        if fits(current + group):
            current += group
        else:
            messages.append(current)
            current = list(group)
    if not fits(current + tail):
        messages.append(current)
        current = []
    messages.append(current + tail)
    return [m for m in messages if m]


# --- writing blocks out ----------------------------------------------------------------------

def as_markdown(blocks: list[Block]) -> str:
    """DingTalk's and WeCom's Markdown: headings, bold, links and quotes, which both render."""
    def run(r: Run) -> str:
        # Link brackets, emphasis stars and tags in the text would be read as Markdown or HTML.
        text = r.text.replace("[", "【").replace("]", "】").replace("*", "＊").replace("<", "＜").replace(">", "＞")
        if r.url:
            text = f"[{text}]({r.url.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"
        return f"**{text}**" if r.bold and not r.url else text
    prefix = {HEADING: "### ", TEXT: "", QUOTE: "> "}
    return "\n\n".join(prefix[kind] + "".join(run(r) for r in runs) for kind, runs in blocks)


def as_plain_text(blocks: list[Block]) -> str:
    def run(r: Run) -> str:
        return f"{r.text} <{r.url}>" if r.url and r.url != r.text else r.text
    prefix = {HEADING: "", TEXT: "", QUOTE: "  "}
    return "\n\n".join(prefix[kind] + "".join(run(r) for r in runs) for kind, runs in blocks) + "\n"


def as_slack(blocks: list[Block]) -> str:
    """Slack's mrkdwn: ``&``, ``<`` and ``>`` escaped, links as ``<url|text>``, bold in stars."""
    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def run(r: Run) -> str:
        if r.url:
            return f"<{esc(r.url)}|{esc(r.text).replace('|', '｜')}>"
        return f"*{esc(r.text)}*" if r.bold else esc(r.text)
    wrap = {HEADING: "*{}*", TEXT: "{}", QUOTE: "> {}"}
    return "\n\n".join(wrap[kind].format("".join(run(r) for r in runs)) for kind, runs in blocks)


def as_html(blocks: list[Block], telegram: bool = False) -> str:
    """HTML: Telegram's subset (``<b>``, ``<a>``, ``<blockquote>``, no paragraphs) or an
    e-mail's body with inline styles."""
    def run(r: Run) -> str:
        text = escape(r.text, quote=False)
        if r.url:
            return f'<a href="{escape(r.url)}">{text}</a>'
        return f"<b>{text}</b>" if r.bold else text
    if telegram:
        wrap = {HEADING: "<b>{}</b>", TEXT: "{}", QUOTE: "<blockquote>{}</blockquote>"}
        return "\n\n".join(wrap[kind].format("".join(run(r) for r in runs)) for kind, runs in blocks)
    wrap = {HEADING: '<h2 style="font-size:18px;color:#0b5cad;margin:20px 0 8px;">{}</h2>',
            TEXT: '<p style="margin:0 0 8px;">{}</p>',
            QUOTE: '<blockquote style="margin:0 0 10px;padding:6px 12px;border-left:3px solid #d0d7de;'
                   'color:#555555;">{}</blockquote>'}
    body = "\n".join(wrap[kind].format("".join(run(r) for r in runs)) for kind, runs in blocks)
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
            '<body style="font-family:-apple-system,\'PingFang SC\',\'Microsoft YaHei\',sans-serif;font-size:15px;'
            f'line-height:1.7;color:#333333;">\n{body}\n</body></html>\n')


# --- the channels ----------------------------------------------------------------------------

def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu's custom bot signature: HMAC-SHA256 keyed with ``timestamp + "\\n" + secret``
    over an empty message, in base64 (open.feishu.cn, "自定义机器人使用指南", 签名校验)."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's custom robot signature: HMAC-SHA256 keyed with the secret over
    ``timestamp + "\\n" + secret``, in base64 (open.dingtalk.com, "自定义机器人安全设置", 加签);
    URL-encoded where it is used."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(slots=True, frozen=True)
class About:
    """What a message is about, for the generic webhook's fields."""

    date: str
    headline: str
    archive_url: str
    sends: str
    part: int
    parts: int


@dataclass(slots=True, frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def _json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class Channel:
    """A chat channel: its message body, the limit its documentation sets, how its answer
    says the message was refused."""

    limit: int | None = None  # None: no documented limit
    smtp = False  # sent by e-mail, not posted

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        raise NotImplementedError

    def size(self, payload: dict) -> int:
        raise NotImplementedError

    def request(self, output: Output, payload: dict, now: float) -> Request:
        return Request(output.url, _json(payload), dict(_JSON_HEADERS))

    def refused(self, answer: bytes) -> str | None:
        """The vendor's error in a 2xx answer, or None."""
        return None


def _error_code(answer: bytes, code_keys: tuple[str, ...], message_keys: tuple[str, ...]) -> str | None:
    try:
        data = json.loads(answer)
    except ValueError:
        return f"the answer is not JSON: {answer[:80]!r}"
    if not isinstance(data, dict):
        return f"unexpected answer {answer[:80]!r}"
    for key in code_keys:
        if key in data and data[key] not in (0, None):
            message = next((data[k] for k in message_keys if data.get(k)), "")
            return f"refused: {key} {data[key]} {message}".strip()
    return None


class Feishu(Channel):
    # "请求体大小不能超过 20 KB" (Feishu custom bot guide): the whole JSON body.
    limit = 20 * 1024

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        # The title is the post's own; the opening heading would repeat it.
        paragraphs = [[{"tag": "a", "text": r.text, "href": r.url} if r.url else {"tag": "text", "text": r.text}
                       for r in runs] for kind, runs in blocks if not (kind == HEADING and runs[0].text == title)]
        return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": paragraphs}}}}

    def size(self, payload: dict) -> int:
        return len(_json({**payload, "timestamp": "0000000000", "sign": "x" * 44}))

    def request(self, output: Output, payload: dict, now: float) -> Request:
        if output.secret:
            timestamp = int(now)
            payload = {"timestamp": str(timestamp), "sign": feishu_sign(output.secret, timestamp), **payload}
        return Request(output.url, _json(payload), dict(_JSON_HEADERS))

    def refused(self, answer: bytes) -> str | None:
        return _error_code(answer, ("code", "StatusCode"), ("msg", "StatusMessage"))


class DingTalk(Channel):
    # No size is documented for the markdown message; 20,000 bytes of text is what the
    # robot is commonly reported to take, and what we keep to.
    limit = 20000

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": as_markdown(blocks)}}

    def size(self, payload: dict) -> int:
        return len(payload["markdown"]["text"].encode("utf-8"))

    def request(self, output: Output, payload: dict, now: float) -> Request:
        url = output.url
        if output.secret:
            timestamp = int(now * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={quote_plus(dingtalk_sign(output.secret, timestamp))}"
        return Request(url, _json(payload), dict(_JSON_HEADERS))

    def refused(self, answer: bytes) -> str | None:
        return _error_code(answer, ("errcode",), ("errmsg",))


class WeCom(Channel):
    # "markdown内容，最长不超过4096个字节，必须是utf8编码" (WeCom group robot guide).
    limit = 4096

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        return {"msgtype": "markdown", "markdown": {"content": as_markdown(blocks)}}

    def size(self, payload: dict) -> int:
        return len(payload["markdown"]["content"].encode("utf-8"))

    def refused(self, answer: bytes) -> str | None:
        return _error_code(answer, ("errcode",), ("errmsg",))


class Slack(Channel):
    # Slack truncates a message's text after 40,000 characters (api.slack.com changelog,
    # "Truncating really long messages", 2018).
    limit = 40000

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        return {"text": as_slack(blocks)}

    def size(self, payload: dict) -> int:
        return len(payload["text"])

    def refused(self, answer: bytes) -> str | None:
        return None if answer.strip() in (b"ok", b"") else f"refused: {answer[:80].decode('utf-8', 'replace')}"


class Telegram(Channel):
    # sendMessage: "Text of the message to be sent, 1-4096 characters after entities
    # parsing" (core.telegram.org/bots/api); the HTML is counted, tags and all, to be safe.
    limit = 4096

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        return {"text": as_html(blocks, telegram=True), "parse_mode": "HTML", "disable_web_page_preview": True}

    def size(self, payload: dict) -> int:
        return len(payload["text"])

    def request(self, output: Output, payload: dict, now: float) -> Request:
        url = f"{output.url.rstrip('/')}/bot{output.token}/sendMessage"
        return Request(url, _json({"chat_id": output.chat_id, **payload}), dict(_JSON_HEADERS))

    def refused(self, answer: bytes) -> str | None:
        try:
            data = json.loads(answer)
        except ValueError:
            return f"the answer is not JSON: {answer[:80]!r}"
        return None if isinstance(data, dict) and data.get("ok") else f"refused: {data.get('description', data)}"


class Email(Channel):
    """Sent through SMTP rather than posted (:mod:`.deliver`): a subject and two bodies, no limit."""

    smtp = True

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        return {"subject": title, "text": as_plain_text(blocks), "html": as_html(blocks)}


class Webhook(Channel):
    """Any JSON endpoint: the issue's fields, its text as Markdown and as plain text."""

    def payload(self, title: str, blocks: list[Block], about: About) -> dict:
        return {"date": about.date, "title": title, "headline": about.headline, "url": about.archive_url,
                "sends": about.sends, "part": about.part, "parts": about.parts,
                "markdown": as_markdown(blocks), "text": as_plain_text(blocks)}

    def size(self, payload: dict) -> int:
        return 0


CHANNELS: dict[str, Channel] = {"webhook": Webhook(), "feishu": Feishu(), "dingtalk": DingTalk(), "wecom": WeCom(),
                                "slack": Slack(), "telegram": Telegram(), "email": Email()}
