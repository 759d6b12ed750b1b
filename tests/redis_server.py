"""A real ``redis-server`` for the cluster tests: Debian's binary (``.ci/run`` installs it),
on a free loopback port, its files in the test's temporary folder, the AOF on."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RedisServer:
    port: int
    folder: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--save", "", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client().ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, (self.folder / "redis.log").read_text()[-2000:]
                time.sleep(0.05)

    def stop(self) -> None:
        """A clean shutdown: the AOF is synced first."""
        if self.process is not None and self.process.poll() is None:
            try:
                self.client().shutdown()
            except redis.ConnectionError:
                pass  # (the connection closes as it shuts down)
            self.process.wait(timeout=20)


@pytest.fixture(name="redis_server")
def redis_server_fixture(tmp_path):
    assert Path(REDIS_SERVER).exists(), "redis-server is not installed (.ci/run installs it)"
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(free_port(), folder)
    server.start()
    yield server
    server.stop()
