"""The README's Architecture section names every module of `agent/`: the tree a newcomer
reads is the tree that exists (a module added or renamed without its line fails here)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Architecture")
    return text[start : text.index("\n## ", start + 1)]


def rel_top(path: Path) -> bool:
    """`agent/__init__.py` and `__main__.py`: the package itself, not a module of it."""
    return path.parent == ROOT / "agent" and path.name in ("__init__.py", "__main__.py")


def test_every_agent_module_is_in_the_architecture_tree() -> None:
    section = _section()
    missing = []
    for path in sorted((ROOT / "agent").rglob("*.py")):
        if rel_top(path) or "templates" in path.parts:
            continue
        rel = path.relative_to(ROOT / "agent")
        if path.name == "__init__.py":
            name = f"{rel.parent.name}/"  # a package: its folder
        elif rel.parent.name in ("verbs", "record"):
            name = path.stem.rstrip("_")  # listed by name on their folder's line
        else:
            name = path.name
        if not re.search(rf"(?<![\w.]){re.escape(name)}", section):
            missing.append(str(rel))
    assert not missing, f"modules not in the README's Architecture section: {missing}"


def test_the_section_names_no_module_that_does_not_exist() -> None:
    section = _section()
    named = set(re.findall(r"\b([a-z_]+\.py)\b", section))
    exists = {p.name for p in (ROOT / "agent").rglob("*.py")}
    exists |= {p.name for p in (ROOT / "bench").glob("*.py")}
    assert not named - exists, f"named but absent: {sorted(named - exists)}"
