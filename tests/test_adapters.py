"""Every site adapter against saved pages of our own making, in one parametrised test.

A case is ``tests/adapters/<site>/<case>.html`` (the page bytes as served) and
``<case>.json``, the expected values:

- ``url``: the page's address (the adapter is chosen by it; nothing is fetched);
- ``not_article``: the reason expected when the page holds no article; otherwise
- ``title``, ``authors`` (list), ``published`` (ISO 8601 with offset), ``published_from``,
  ``canonical_url``: compared exactly where given;
- ``text_contains`` / ``text_excludes``: phrases the body must and must not hold;
- ``links``: {url: role} that must be among the cited links; ``no_links``: URLs that must not;
- ``images``: image URLs expected, in order;
- ``timezone``: the source's zone for naive dates (default Asia/Shanghai);
- ``site``: the adapter expected to read the page (default: the folder's name).

When a site changes its layout, add a new case beside the old one: both keep passing.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipelines.analysis.extract import extract

CASES = Path(__file__).parent / "adapters"
NOW = datetime(2022, 10, 20, 12, 0, tzinfo=timezone.utc)
MOJIBAKE = ("\ufffd", "锟斤拷", "Ã", "â€", "鈥", "烫烫烫")


def cases():
    for expected_path in sorted(CASES.glob("*/*.json")):
        yield pytest.param(expected_path, id=f"{expected_path.parent.name}/{expected_path.stem}")


@pytest.mark.parametrize("expected_path", list(cases()))
def test_adapter_case(expected_path: Path):
    expected = json.loads(expected_path.read_text("utf-8"))
    body = expected_path.with_suffix(".html").read_bytes()
    zone = ZoneInfo(expected.get("timezone", "Asia/Shanghai"))
    result = extract(body, expected["url"], content_type=expected.get("content_type"), tz=zone, now=NOW)
    if "not_article" in expected:
        assert result.article is None
        assert result.reason == expected["not_article"]
        return
    article = result.article
    assert article is not None, result.reason
    assert article.site == expected.get("site", expected_path.parent.name)
    for key in ("title", "authors", "published_from", "canonical_url", "language"):
        if key in expected:
            assert getattr(article, key) == expected[key], key
    if "published" in expected:
        assert article.published == datetime.fromisoformat(expected["published"])
    for phrase in expected.get("text_contains", []):
        assert phrase in article.text, phrase
    for phrase in expected.get("text_excludes", []):
        assert phrase not in article.text, phrase
    assert not any(marker in article.text for marker in MOJIBAKE)
    links = {link.url: link.role for link in article.links}
    for url, role in expected.get("links", {}).items():
        assert links.get(url) == role, (url, links)
    for url in expected.get("no_links", []):
        assert url not in links, url
    if "images" in expected:
        assert article.images == expected["images"]


def test_every_adapter_has_cases():
    from pipelines.analysis.sites import adapters

    for adapter in adapters():
        folder = CASES / adapter.NAME
        assert folder.is_dir() and list(folder.glob("*.json")), f"no saved pages for the {adapter.NAME} adapter"
