"""The wheel carries the agent, the flows, the replica and its assets, and the `onboard` script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

REQUIRED = [
    "agent/cli.py",
    "agent/engine/overlay.js",
    "agent/templates/report.html.j2",
    "agent/flows/okx.yaml",
    "replica/app.py",
    "replica/seed.yaml",
    "replica/templates/base.html",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    base = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out)]
    # Isolated first (fetches hatchling); without a network, fall back to the venv's own.
    for cmd in (base, [*base, "--no-isolation"]):
        proc = subprocess.run([*cmd, str(ROOT)], capture_output=True, text=True, timeout=300)
        wheels = sorted(out.glob("*.whl"))
        if proc.returncode == 0 and wheels:
            return wheels[-1]
    pytest.fail(f"could not build the wheel:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


@pytest.mark.slow
def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [n for n in REQUIRED if n not in names]
    assert missing == []
    assert any(n.startswith("replica/static/") and not n.endswith("/") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


@pytest.mark.slow
def test_wheel_flow_is_the_repo_flow(wheel: Path) -> None:
    shipped = zipfile.ZipFile(wheel).read("agent/flows/okx.yaml").decode()
    assert shipped == (ROOT / "flows" / "okx.yaml").read_text()


@pytest.mark.slow
def test_wheel_entry_point(wheel: Path) -> None:
    zf = zipfile.ZipFile(wheel)
    eps = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert len(eps) == 1
    text = zf.read(eps[0]).decode()
    lines = [ln.strip() for ln in text.splitlines()]
    assert "[console_scripts]" in lines
    assert "onboard = agent.cli:main" in lines
