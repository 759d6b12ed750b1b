"""The crawl's DNS resolver: Scrapy's caching resolver, with the address policy applied to
what each name resolves to (:mod:`crawler.addresses`).

Installed through ``TWISTED_DNS_RESOLVER``, so the name is judged by the very address the
download then connects to, in the resolver's thread, never blocking the reactor. Names a
proxy is used for are never resolved here (the proxy resolves them); the proxies of the
environment are exempt themselves. ``AIBRIEF_STATIC_HOSTS`` (``name=address,...``) pins
names to addresses without asking DNS, as curl's ``--resolve`` does: the tests use it to
point a name at loopback.

Scrapy builds the resolver before the crawl's components from the process settings; the
crawl's policy (from its configuration) reaches it through :func:`use_policy`, which the
address middleware calls. A process runs one crawl (the reactor starts once), so one policy
a process is the crawl's; until it is set, the strict default holds.
"""
from __future__ import annotations

import ipaddress
import urllib.request
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.addresses import AddressPolicy

_POLICY: list[AddressPolicy] = [AddressPolicy()]
# Names refused this crawl, with the reason. Twisted's adapter from a simple resolver to
# the host name resolver its endpoints use turns any lookup error into "no results", so
# the download fails as a lookup failure; the address middleware finds the reason here.
REFUSED: dict[str, str] = {}


class AddressRefusedError(DNSLookupError):
    """A name that resolved to an address the policy refuses (a DNS failure to Twisted,
    so that the download fails at once; the spider counts it as a refusal)."""


def refusal_for(host: str) -> str | None:
    """Why the resolver refused ``host`` in this crawl, or None."""
    return REFUSED.get(host.lower())


def use_policy(policy: AddressPolicy) -> None:
    _POLICY[0] = policy


def environment_proxy_hosts() -> frozenset[str]:
    return frozenset((urlsplit(url).hostname or "").lower() for url in urllib.request.getproxies().values()
                     if "://" in url)


def static_hosts(text: str | None) -> dict[str, str]:
    """``name=address,name=address`` as a mapping; ValueError for a malformed entry."""
    pinned: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in (text or "").split(","))):
        name, sep, address = entry.partition("=")
        if not sep or not name.strip() or not address.strip():
            raise ValueError(f"AIBRIEF_STATIC_HOSTS: {entry!r} is not name=address")
        pinned[name.strip().lower()] = address.strip()
    return pinned


class PolicyResolver(CachingThreadedResolver):
    def __init__(self, reactor, cache_size: int, timeout: float, pinned: dict[str, str] | None = None) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.pinned = pinned or {}
        self.exempt = environment_proxy_hosts()

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.pinned = static_hosts(crawler.settings.get("AIBRIEF_STATIC_HOSTS"))
        return resolver

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 (Twisted's interface)
        host = name.decode("ascii") if isinstance(name, bytes) else name
        found = defer.succeed(self.pinned[host.lower()]) if host.lower() in self.pinned \
            else super().getHostByName(name, timeout)
        if host.lower() in self.exempt or _is_literal(host):
            return found  # a configured proxy; a literal address was judged with its URL
        return found.addCallback(self._judge, host)

    @staticmethod
    def _judge(address: str, host: str) -> str:
        reason = _POLICY[0].refuse_resolved(host, address)
        if reason:
            REFUSED[host.lower()] = reason
            raise AddressRefusedError(reason)
        return address


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
