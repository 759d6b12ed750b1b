"""The sample server that the demo and the tests crawl: fault routes by name, and no file
outside its roots whatever the request says."""
from __future__ import annotations

import http.client

import pytest
from conftest import DEMO_SITES

from crawler.sampleserver import FAULT_ROUTES, serve_in_thread


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    root = tmp_path_factory.mktemp("sites")
    (root / "site.test").mkdir()
    (root / "site.test" / "a.html").write_text("<html><body>内页</body></html>", "utf-8")
    (root.parent / "secret.txt").write_text("outside the roots", "utf-8")
    server = serve_in_thread([root, DEMO_SITES])
    yield server.server_address[1]
    server.shutdown()


def get(port: int, path: str, host: str = "site.test") -> tuple[int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def test_fault_routes_are_mounted_by_name():
    assert {"status", "seq", "delay", "hang", "hang-body", "drop", "truncate", "badchunk", "redirect", "loop",
            "refresh-self", "big", "big-chunked", "gzip-bomb"} <= set(FAULT_ROUTES)


def test_each_route_answers_as_named(port):
    assert get(port, "/_fault/status/503")[0] == 503
    assert [get(port, "/_fault/seq/k/429r7,500/a.html")[:1] for _ in range(3)] == [(429,), (500,), (200,)]
    status, _, headers = get(port, "/_fault/redirect/1/a.html")
    assert status == 302 and headers["Location"] == "http://site.test/_fault/redirect/0/a.html"
    assert get(port, "/_fault/redirect/0/a.html")[2]["Location"] == "http://site.test/a.html"
    assert get(port, "/a.html")[1] == "<html><body>内页</body></html>".encode()


@pytest.mark.parametrize("path", ["/_fault/nosuch", "/_fault/status/abc", "/_fault/redirect/x/a.html",
                                  "/_fault/big/lots", "/_fault/delay/forever/a.html", "/_fault/seq/k"])
def test_an_unknown_route_or_bad_arguments_answer_400(port, path):
    assert get(port, path)[0] == 400


@pytest.mark.parametrize("host", ["..", "../..", "site.test/..", "..%2f..", "a..b"])
def test_no_host_header_reaches_outside_the_roots(port, host):
    status, body, _ = get(port, "/secret.txt", host=host)
    assert status == 404 and b"outside the roots" not in body
