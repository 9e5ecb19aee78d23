"""A roster's text into entries' raw fields, each with the line it is on: YAML (anchors and
merge keys allowed, a key given twice refused) or CSV (a header row, list cells split on spaces,
';' or '|'). No field is checked here: agent.roster_entry does that, one field at a time."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import yaml

from agent.lists import WHITESPACE, split_list

LIST_FIELDS = ("ips", "sub_accounts", "code_prompt")

Raw = list[tuple[dict[str, Any], dict[str, int]]]  # (fields, {field: line, "": entry line})


def parse_yaml(name: str, text: str) -> tuple[Raw, list[str]]:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        return [], [_yaml_problem(name, text, exc)]
    if root is None:
        return [], [f"{name}: the roster is empty"]
    bad = _key_problems(name, root)
    if bad:
        return [], bad
    defaults: dict[str, Any] = {}
    seq: Any = root
    if isinstance(root, yaml.MappingNode):
        top = {k.value: v for k, v in root.value}
        extra = sorted(set(top) - {"defaults", "entries", "browser_pool"})  # pool: agent.pool
        if extra:
            return [], [
                f"{name}:{root.start_mark.line + 1}: unknown top-level key {extra[0]!r} "
                "(a roster is a list of entries, or 'defaults', 'entries' and 'browser_pool')"
            ]
        if "defaults" in top:
            dnode = top["defaults"]
            if not isinstance(dnode, yaml.MappingNode):
                return [], [f"{name}:{dnode.start_mark.line + 1}: 'defaults' must be a mapping"]
            try:
                defaults = _construct(dnode) or {}
            except yaml.YAMLError as exc:
                return [], [_yaml_problem(name, text, exc)]
        seq = top.get("entries")
        if seq is None:
            return [], [f"{name}: no 'entries' list"]
    if not isinstance(seq, yaml.SequenceNode):
        return [], [f"{name}:{seq.start_mark.line + 1}: the entries must be a YAML list"]
    problems: list[str] = []
    for key in defaults:
        if key == "id" or key == "label":
            problems.append(f"{name}: defaults: {key!r} must be given per entry")
    out: Raw = []
    for node in seq.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problems.append(f"{name}:{line}: an entry must be a mapping of fields")
            continue
        lines = {"": line, **{k.value: k.start_mark.line + 1 for k, _ in node.value}}
        try:
            item = _construct(node) or {}
        except yaml.YAMLError as exc:
            problems.append(_yaml_problem(name, text, exc))
            continue
        out.append(({**defaults, **item}, lines))
    return out, problems


def _construct(node: yaml.Node) -> Any:
    """The Python value of one node, by the safe constructor, its errors marked in the file."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_problem(name: str, text: str, exc: yaml.YAMLError) -> str:
    """One line, with the line number when PyYAML knows where (a bad character: by offset)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        where = f"{mark.line + 1}:"
    elif isinstance(exc, yaml.reader.ReaderError):
        where = f"{text.count(chr(10), 0, max(exc.position, 0)) + 1}:"
    else:
        where = ""
    problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if problem.startswith("but ") and context:  # "but found another document": say what not
        problem = f"{context}, {problem}"
    return f"{name}:{where} not valid YAML ({problem})"


def _key_problems(name: str, root: yaml.Node) -> list[str]:
    """Keys that are not plain names (`? [a, b]`), and keys given twice in one mapping: the
    YAML loader would fail on the first and silently keep the last of the second."""
    problems: list[str] = []
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:  # an alias: the same node again
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            todo.extend(reversed(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if not isinstance(key, yaml.ScalarNode):
                kind = "list" if isinstance(key, yaml.SequenceNode) else "mapping"
                problems.append(f"{name}:{line}: a key must be a plain name, not a {kind}")
            elif key.value in first and key.tag != "tag:yaml.org,2002:merge":
                problems.append(
                    f"{name}:{line}: key {key.value!r} is given twice (first on line "
                    f"{first[key.value]})"
                )
            else:
                first.setdefault(key.value, line)
            todo.append(value)
    return sorted(problems, key=line_of)


def parse_csv(name: str, text: str) -> tuple[Raw, list[str]]:
    reader = csv.reader(io.StringIO(text))
    problems: list[str] = []
    out: Raw = []
    try:
        header = [h.strip() for h in next(reader, [])]
        if not header:
            return [], [f"{name}: the roster is empty"]
        named = [h for h in header if h]
        twice = next((h for h in named if named.count(h) > 1), None)
        if twice is not None:
            return [], [f"{name}:{reader.line_num}: column {twice!r} appears twice in the header"]
        for cells in reader:
            if not cells:
                continue
            line = reader.line_num
            item = _csv_item(header, cells)
            if any(c.strip() for c in cells[len(header) :]):
                problems.append(f"{name}:{line}: more cells than columns in the header")
            if item:
                out.append((item, {"": line, **dict.fromkeys(item, line)}))
    except csv.Error as exc:  # e.g. a cell over the csv module's limit (131072 characters)
        problems.append(f"{name}:{reader.line_num}: not valid CSV ({exc})")
    return out, problems


def _csv_item(header: list[str], cells: list[str]) -> dict[str, Any]:
    """One row's fields: empty cells left out, lists split on spaces or ';'. allow_private_ip
    stays text for the field's own check (a typo there must not read as "no")."""
    item: dict[str, Any] = {}
    for key, value in zip(header, cells, strict=False):
        value = value.strip()
        if not value:
            continue
        if key in LIST_FIELDS:
            item[key] = split_list(value, WHITESPACE + ";|")
        else:
            item[key] = value
    return item


def line_of(problem: str) -> int:
    """The line a problem (`file:LINE: ...`) is on, for sorting them."""
    m = re.match(r"[^:]*:(\d+):", problem)
    return int(m.group(1)) if m else 0
