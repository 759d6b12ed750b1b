"""``aibrief schedule``: crawl groups on their intervals, the issue built once, a clean stop."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import time

import pytest
from conftest import AIBRIEF, ROOT, env_for, rows, run_cli

DATES_FEED = '[[sources]]\nid = "dates"\nurl = "http://feeds.fixture.test/chinese-dates.xml"\n'
# A Friday, five minutes after the issue fell due.
LATE = "2022-10-14T08:05:00+08:00"


def schedule_config(config_file, every: str = "1h", grace: str = "1h"):
    config = config_file(DATES_FEED)
    config.write_text(config.read_text() + '\n[issue]\ndue = "fri 08:00"\n\n[schedule]\n'
                      f'misfire_grace = "{grace}"\n\n[[schedule.crawl]]\nname = "news"\nevery = "{every}"\n')
    return config


def once(config, db_path, site, now: str = LATE):
    return run_cli("-v", "--config", str(config), "--db", str(db_path), "schedule", "--once",
                   site=site, AIBRIEF_NOW=now)


def test_a_scheduler_back_five_minutes_late_builds_the_issue_exactly_once(site, db_path, config_file):
    """The scheduler is down at issue time and comes back five minutes late: built once."""
    config = schedule_config(config_file)
    first = once(config, db_path, site)
    assert first.returncode == 0, first.stderr
    assert "issue 2022-10-14 built (3 items)" in first.stderr
    second = once(config, db_path, site)
    assert second.returncode == 0, second.stderr
    assert "built" not in second.stderr
    assert rows(db_path, "SELECT date FROM issues") == [("2022-10-14",)]
    assert rows(db_path, "SELECT count(*) FROM issue_items") == [(3,)]


def test_a_scheduler_back_later_than_the_grace_builds_nothing(site, db_path, config_file):
    """Past schedule.misfire_grace the missed issue is left alone (the crawl still runs)."""
    result = once(schedule_config(config_file, grace="1h"), db_path, site, now="2022-10-14T09:06:00+08:00")
    assert result.returncode == 0, result.stderr
    assert rows(db_path, "SELECT count(*) FROM issues") == [(0,)]
    assert rows(db_path, "SELECT command, status FROM crawl_runs") == [("aibrief schedule news", "ok")]


def test_once_twice_does_not_crawl_again_within_the_interval(site, db_path, config_file):
    config = schedule_config(config_file)
    first = once(config, db_path, site, now="2022-10-12T10:00:00+08:00")
    assert first.returncode == 0, first.stderr
    site.clear()
    second = once(config, db_path, site, now="2022-10-12T10:59:00+08:00")
    assert second.returncode == 0, second.stderr
    assert rows(db_path, "SELECT count(*) FROM crawl_runs") == [(1,)]
    assert site.fetched() == []
    third = once(config, db_path, site, now="2022-10-12T11:00:00+08:00")  # the interval is up
    assert third.returncode == 0, third.stderr
    assert rows(db_path, "SELECT count(*) FROM crawl_runs") == [(2,)]


def test_once_skips_its_turn_while_another_run_holds_the_lock(site, db_path, config_file):
    """A held lock skips the crawl and the build with one line each: exit 0, no traceback."""
    from schedules.lock import run_lock

    config = schedule_config(config_file)
    with run_lock(db_path, "aibrief run"):
        result = once(config, db_path, site)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "crawl news skipped: another run holds the lock: aibrief run (pid " in result.stderr
    assert rows(db_path, "SELECT count(*) FROM crawl_runs") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM issues") == [(0,)]
    assert site.fetched() == []


def test_once_fails_when_every_crawl_failed(site, db_path, config_file):
    config = config_file('[[sources]]\nid = "gone"\nurl = "http://feeds.fixture.test/missing.xml"\n')
    result = run_cli("--config", str(config), "--db", str(db_path), "schedule", "--once", site=site)
    assert result.returncode == 1, result.stderr
    assert rows(db_path, "SELECT command, status FROM crawl_runs") == [("aibrief schedule all", "failed")]


def finished_runs(db_path) -> int:
    try:
        return rows(db_path, "SELECT count(*) FROM crawl_runs WHERE ended_at IS NOT NULL")[0][0]
    except sqlite3.OperationalError:  # not created yet, or still being migrated
        return 0


def wait_for(predicate, timeout: float, process: subprocess.Popen):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            pytest.fail(f"the scheduler exited early: {process.communicate()[1]}")
        time.sleep(0.2)
    process.kill()
    pytest.fail(f"timed out; the scheduler said: {process.communicate()[1]}")


def test_three_scheduled_crawls_in_one_scheduler_process_all_complete(site, db_path, config_file):
    """Three crawls in one long-running process (no ReactorNotRestartable); SIGTERM stops it."""
    config = schedule_config(config_file, every="2s")
    process = subprocess.Popen([str(AIBRIEF), "--config", str(config), "--db", str(db_path), "schedule"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env=env_for(site))
    try:
        wait_for(lambda: finished_runs(db_path) >= 3, 40, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "aibrief schedule: crawl:news next " in stderr and "issue:build next " in stderr
    assert "Traceback" not in stderr
    statuses = rows(db_path, "SELECT command, status FROM crawl_runs")
    assert len(statuses) >= 3
    assert set(statuses) == {("aibrief schedule news", "ok")}, stderr
    assert rows(db_path, "SELECT count(*) FROM leases") == [(0,)]
