"""One run at a time: a lease in the database shared by every command that crawls (and,
for cluster runs, one in Redis: :class:`ClusterLock`).

The lease names its holder (command, pid, host) and expires unless renewed; a second
comer exits at once with a message naming the holder. A lease left by a killed process
is taken over when it expires, or at once when its pid is gone from this host.
"""
from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

import redis
import sqlite_utils

from pipelines.archive.db import connect, immediate, iso, utcnow
from pipelines.cluster import Keys

# Renewed every RENEW_SECONDS while working; a holder silent for LEASE_SECONDS is gone.
LEASE_SECONDS = 300
RENEW_SECONDS = 60


class LockHeld(Exception):
    """Another run holds the lock; the message is one line naming it."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lease:
    def __init__(self, db_path, name: str, holder: str) -> None:
        self.db: sqlite_utils.Database = connect(db_path)
        self.name = name
        self.holder = holder
        self.token = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.renewed = utcnow()

    def acquire(self) -> Lease:
        now = utcnow()
        with immediate(self.db):
            row = self.db.execute("SELECT holder, pid, host, acquired_at, expires_at FROM leases WHERE name = ?",
                                  [self.name]).fetchone()
            if row is not None:
                holder, pid, host, acquired, expires = row
                stale = datetime.fromisoformat(expires) <= now or (host == self.host and not _alive(pid))
                if not stale:
                    raise LockHeld(f"another run holds the lock: {holder.split(':', 1)[0]} "
                                   f"(pid {pid} on {host}, since {acquired}); not starting")
            self.db.execute(
                "INSERT OR REPLACE INTO leases (name, holder, pid, host, acquired_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [self.name, f"{self.holder}:{self.token}", self.pid, self.host, iso(now),
                 iso(now + timedelta(seconds=LEASE_SECONDS))])
        self.renewed = now
        return self

    def renew(self, force: bool = False) -> None:
        now = utcnow()
        if not force and (now - self.renewed).total_seconds() < RENEW_SECONDS:
            return
        with immediate(self.db):
            self.db.execute("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?",
                            [iso(now + timedelta(seconds=LEASE_SECONDS)), self.name,
                             f"{self.holder}:{self.token}"])
        self.renewed = now

    def release(self) -> None:
        with immediate(self.db):
            self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?",
                            [self.name, f"{self.holder}:{self.token}"])
        self.db.close()

    def __enter__(self) -> Lease:
        try:
            return self.acquire()
        except BaseException:
            self.db.close()
            raise

    def __exit__(self, *exc) -> None:
        self.release()


def run_lock(db_path, holder: str) -> Lease:
    """The lease every crawling command takes: ``with run_lock(path, "aibrief run"):``."""
    return Lease(db_path, "run", holder)


# Deletes a key only while it still holds this holder's token.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


class ClusterLockHeld(Exception):
    """Another cluster run holds the lock; the message is one line naming it."""


_TAKE_OVER = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end return 0"


class ClusterLock:
    """One cluster run at a time: a key in Redis naming its holder, with a lease that
    expires unless renewed. As with :class:`Lease`, a holder killed
    with SIGKILL frees it when the lease expires, or at once for a process on this host."""

    def __init__(self, client: redis.Redis, keys: Keys, holder: str, lease_seconds: float) -> None:
        self.client = client
        self.key = keys.lock
        self.host = socket.gethostname()
        self.token = f"{holder}|{os.getpid()}|{self.host}|{uuid.uuid4().hex}"
        self.lease_ms = int(lease_seconds * 1000)

    def acquire(self) -> ClusterLock:
        if self.client.set(self.key, self.token, nx=True, px=self.lease_ms):
            return self
        held = self.client.get(self.key) or b""
        holder, pid, host, _ = (held.decode("utf-8", "replace").split("|") + ["?"] * 4)[:4]
        if host == self.host and pid.isdigit() and not _alive(int(pid)):
            if self.client.eval(_TAKE_OVER, 1, self.key, held, self.token, self.lease_ms):
                return self
        raise ClusterLockHeld(f"another cluster run holds the lock: {holder} (pid {pid} on {host}); not starting")

    def renew(self) -> bool:
        """Extend the lease; a lease that expired meanwhile (Redis was restarting for longer
        than the lease, say) is taken again unless another holder has it. Whether it is held."""
        if self.client.eval(_RENEW, 1, self.key, self.token, self.lease_ms):
            return True
        return bool(self.client.set(self.key, self.token, nx=True, px=self.lease_ms))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.token)
