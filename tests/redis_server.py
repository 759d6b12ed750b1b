"""A real ``redis-server`` for the cluster tests: Debian's binary (``.ci/run`` installs it),
on a free loopback port, its files in the test's temporary folder, the AOF on
(:class:`crawler.bench_cluster.RedisProcess`, which the cluster benchmark runs too)."""
from __future__ import annotations

import pytest

from crawler.bench_cluster import RedisProcess


@pytest.fixture(name="redis_server")
def redis_server_fixture(tmp_path):
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisProcess(folder).start()
    yield server
    server.stop()
