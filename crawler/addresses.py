"""Which addresses a crawl may fetch from: never inside the network it runs in.

A feed, a listing or a redirect names whatever URL it likes; fetched and stored, an intranet
page or a cloud metadata answer would end up in a public digest (server-side request
forgery). So every request is refused when its host is, or resolves to, an address that is
loopback, private, link-local, multicast, reserved, unspecified, otherwise not global, or a
cloud metadata address, IPv4 or IPv6 (an IPv6 address that embeds an IPv4 one, mapped,
6to4 or NAT64, is judged by that one), and when its URL carries credentials.

``crawl.allow_private`` lifts the address rule; ``crawl.allow_hosts`` names hosts (an
intranet RSSHub, say) that may be fetched whatever they resolve to. The Scrapy side is
:class:`crawler.middlewares.AddressPolicyMiddleware` (URLs, literal addresses, each
redirect hop) and :class:`crawler.resolver.PolicyResolver` (names, as they resolve); the
one-off fetches of ``aibrief extract`` and ``sources check`` go through
:func:`policy_opener`.
"""
from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from schedules.settings import CrawlSettings

# Cloud instance metadata services: AWS, GCP and Azure (169.254.169.254, link-local anyway),
# AWS over IPv6, Alibaba Cloud, Oracle Cloud's second address, and the names they answer to.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"))
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LEGACY_IPV4 = re.compile(r"^(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+)){0,3}$")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(address: Address) -> Address:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), else the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refused_address(text: str) -> str | None:
    """Why an address may not be fetched from ("loopback", "private", ...), or None. Text
    that is no address at all is None: it is a host name, judged when it resolves."""
    text = text.strip("[]").split("%")[0].lower()
    if text == "localhost" or text.endswith(".localhost"):
        return "loopback"  # RFC 6761, 6.3: always the loopback address
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not _LEGACY_IPV4.match(text):
            return None
        try:  # 2130706433, 0x7f000001, 127.1: what inet_aton, and so many resolvers, read as IPv4
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    for candidate in dict.fromkeys((embedded_ipv4(address), address)):
        if candidate in METADATA_ADDRESSES:
            return "cloud metadata"
        for name in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
            if getattr(candidate, f"is_{name}"):
                return name.replace("_", "-")
        if not candidate.is_global:
            return "not global"
    return None


@dataclass(slots=True, frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allow_hosts: frozenset[str] = frozenset()

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allow_hosts

    def refuse_url(self, url: str) -> str | None:
        """Why ``url`` may not be fetched at all (credentials, a refused literal address or
        metadata host), or None; a host name is judged again once it resolves."""
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            return "credentials in the URL"
        host = (parts.hostname or "").lower().rstrip(".")
        if self.allows_host(host) or self.allow_private:
            return None
        if host in METADATA_HOSTS:
            return "private address (cloud metadata)"
        reason = refused_address(host)
        return f"private address ({reason})" if reason else None

    def refuse_resolved(self, host: str, address: str) -> str | None:
        """Why ``host``, resolved to ``address``, may not be fetched from, or None."""
        if self.allow_private or self.allows_host(host):
            return None
        reason = refused_address(address)
        return f"private address ({host} is {address}, {reason})" if reason else None


def policy_for(crawl: CrawlSettings) -> AddressPolicy:
    """The address policy of the configuration's ``[crawl]`` table."""
    return AddressPolicy(crawl.allow_private, frozenset(crawl.allow_hosts))


class AddressRefused(Exception):
    """A fetch refused by the address policy; the message is one line."""


class _PeerCheck:
    """Refuses, once connected, a peer the policy refuses: the address connected to is the
    one judged, so a name cannot resolve one way for the check and another for the fetch."""

    def __init__(self, *args, policy: AddressPolicy, checked_host: str | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.policy, self.checked_host = policy, checked_host

    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _CheckedHTTPConnection(_PeerCheck, http.client.HTTPConnection):
    pass


class _CheckedHTTPSConnection(_PeerCheck, http.client.HTTPSConnection):
    pass


def _check_peer(connection) -> None:
    if connection.checked_host is None:  # through a proxy: the proxy resolves and connects
        return
    peer = connection.sock.getpeername()[0]
    reason = connection.policy.refuse_resolved(connection.checked_host, peer)
    if reason:
        connection.close()
        raise AddressRefused(f"not fetched, {reason}")


def _host(req: urllib.request.Request) -> str:
    """The request's host name, without the port ``req.host`` may carry (allow_hosts names hosts)."""
    return urlsplit(req.full_url).hostname or req.host


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self.policy = policy

    def http_open(self, req):
        return self.do_open(functools.partial(_CheckedHTTPConnection, policy=self.policy,
                                              checked_host=None if req.has_proxy() else _host(req)), req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self.policy = policy

    def https_open(self, req):
        # (A proxied https request tunnels through the proxy: the proxy connects.)
        checked = None if req._tunnel_host else _host(req)
        return self.do_open(functools.partial(_CheckedHTTPSConnection, policy=self.policy, checked_host=checked),
                            req, context=self._context)


class _CheckedRedirectHandler(urllib.request.HTTPRedirectHandler):
    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self.policy = policy

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        reason = self.policy.refuse_url(newurl)
        if reason:
            raise AddressRefused(f"{newurl}: not fetched (a redirect), {reason}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def policy_opener(policy: AddressPolicy) -> urllib.request.OpenerDirector:
    """A urllib opener whose every request and redirect hop keeps to ``policy`` (the
    environment's proxies are used as urllib always does)."""
    return urllib.request.build_opener(_CheckedHTTPHandler(policy), _CheckedHTTPSHandler(policy),
                                       _CheckedRedirectHandler(policy))
