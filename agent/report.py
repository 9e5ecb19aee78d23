"""A batch's reports: a JSON summary and one self-contained HTML file.

Built from the journal (the batch, its entries, every attempt) and each
entry's run artifacts (`runs/<run>/log.jsonl` and its masked screenshots,
embedded as data URIs). Every text passes the redaction layer; the HTML has
inline CSS and no external reference, so it can be mailed or archived as is.
"""

from __future__ import annotations

import base64
import html
import json
import os
import time
from pathlib import Path
from typing import Any

from agent.config import Settings, private_dir
from agent.custody.redact import redact
from agent.journal import Journal, verdict


def summary(journal: Journal, batch_id: str, settings: Settings) -> dict[str, Any]:
    batch = journal.batch(batch_id)
    if batch is None:
        raise KeyError(batch_id)
    entries = []
    counts: dict[str, int] = {}
    for be in journal.batch_entries(batch_id):
        runs = journal.entry_runs(batch_id, be["entry_id"])
        last = runs[-1] if runs else None
        try:
            result = json.loads(be["result"]) if be["result"] else {}
        except json.JSONDecodeError:
            result = {}
        outcome = be["outcome"] or ("not started" if last is None else "interrupted")
        counts[outcome] = counts.get(outcome, 0) + 1
        run_dir = settings.runs_dir / last["id"] if last else None
        entries.append(
            {
                "id": be["entry_id"],
                "label": be["label"],
                "account": be["account"],
                "profile": be["profile"],
                "outcome": outcome,
                "state": last["state"] if last else "pending",
                "reached": last["reached"] if last else "",
                "attempts": [
                    {
                        "run_id": r["id"],
                        "reached": r["reached"],
                        "state": r["state"],
                        "note": r["note"],
                        "started": r["started"],
                        "updated": r["updated"],
                    }
                    for r in runs
                ],
                "result": result,
                "steps": _steps(run_dir) if run_dir else [],
                "screenshots": sorted(str(p) for p in run_dir.glob("*.png")) if run_dir else [],
                "next": next_action(outcome, last, result),
            }
        )
    return json.loads(
        redact(
            json.dumps(
                {
                    "batch_id": batch_id,
                    "roster": batch["roster"],
                    "state": batch["state"],
                    "started": batch["started"],
                    "updated": batch["updated"],
                    "counts": counts,
                    "entries": entries,
                },
                default=str,
            )
        )
    )


def next_action(outcome: str, row: dict[str, Any] | None, result: dict[str, Any]) -> str:
    """What an operator must do about an entry, in plain words."""
    if row is None:
        return "not started: re-run the batch (it resumes where it stopped)"
    if outcome in ("ok", "skipped"):
        rest = str((result.get("verification") or {}).get("signed REST", ""))
        ids = ", ".join(result.get("vault_ids") or []) or row.get("vault_ids") or ""
        if rest.startswith("pending") or rest.startswith("not run"):
            return f"stored ({ids}); prove it works: `onboard verify {ids.split(',')[0]}` from a whitelisted host"
        return f"nothing: the key is stored ({ids}) and checked"
    if str(result.get("message", "")).startswith("DELETE THIS KEY NOW"):
        return str(result["message"])
    if outcome == "flagged":
        return verdict(row) + "; then `onboard batch ROSTER --retry " + "ID`"
    if result.get("exit_code") == 7:
        return (
            f"the exchange refused: {result.get('message')}; delete or rename the existing key, "
            "then re-run the batch"
        )
    return verdict(row) + "; re-run the batch to try again"


def _steps(run_dir: Path) -> list[dict[str, Any]]:
    """Each step's caption, outcome and seconds, and each state change, from the run log."""
    out: list[dict[str, Any]] = []
    log = run_dir / "log.jsonl"
    if not log.exists():
        return out
    t0 = None
    captions: dict[str, str] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            continue
        t0 = t0 if t0 is not None else ev.get("t", 0)
        at = round(ev.get("t", 0) - t0, 2)
        if ev.get("event") == "step":
            if ev.get("state") == "running":
                captions[ev.get("id", "")] = ev.get("caption", "")
            else:
                out.append({"at": at, "step": captions.get(ev.get("id", ""), ev.get("id")),
                            "status": ev.get("state"), "seconds": ev.get("seconds")})  # fmt: skip
        elif ev.get("event") == "state":
            out.append({"at": at, "state": ev.get("state")})
        elif ev.get("event") == "result" and ev.get("status") != "ok":
            out.append({"at": at, "stopped": ev.get("message")})
    return out


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1f24;background:#fafafa}
h1{font-size:20px} h2{font-size:16px;margin:0 0 6px}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
.entry{background:#fff;border:1px solid #ddd;border-left:6px solid #999;padding:12px 16px;margin:14px 0}
.ok,.skipped{border-left-color:#2da44e} .failed,.interrupted{border-left-color:#cf222e}
.flagged{border-left-color:#bf8700;background:#fff8e1} .next{font-weight:600}
.flagged .next{color:#9a3412} img{max-width:48%;border:1px solid #ccc;margin:4px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#eee;font-size:12px}
"""


def render_html(s: dict[str, Any]) -> str:
    e = html.escape
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["started"]))
    counts = " · ".join(f"{k}: {v}" for k, v in sorted(s["counts"].items()))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>onboard batch {e(s['batch_id'])}</title><style>{CSS}</style></head><body>",
        f"<h1>onboard batch {e(s['batch_id'])}</h1>",
        f"<p>Roster <code>{e(s['roster'])}</code>, started {e(started)}, state "
        f"<b>{e(s['state'])}</b>. {e(counts)}</p>",
        "<table><tr><th>entry</th><th>label</th><th>account</th><th>outcome</th>"
        "<th>reached</th><th>what to do</th></tr>",
    ]
    for en in s["entries"]:
        parts.append(
            f"<tr><td><a href='#{e(en['id'])}'>{e(en['id'])}</a></td><td>{e(en['label'])}</td>"
            f"<td>{e(en['account'])}</td><td>{e(en['outcome'])}</td><td>{e(en['reached'])}</td>"
            f"<td>{e(en['next'])}</td></tr>"
        )
    parts.append("</table>")
    images: dict[str, str] = {}
    for en in s["entries"]:
        r = en["result"]
        parts.append(
            f"<div class='entry {e(en['outcome'])}' id='{e(en['id'])}'>"
            f"<h2>{e(en['id'])} <span class='badge'>{e(en['outcome'])}</span></h2>"
            f"<p class='next'>Next: {e(en['next'])}</p><table>"
        )
        rows = [
            ("label", en["label"]),
            ("account", en["account"]),
            ("profile", en["profile"]),
            ("flow", r.get("flow")),
            ("API key", r.get("api_key_masked") if len(r.get("keys") or []) < 2 else ""),
            ("stored", ", ".join(r.get("vault_ids") or [])),
            ("message", r.get("message")),
            ("seconds", r.get("seconds")),
            ("factors", ", ".join(r.get("factors") or [])),
        ]
        keys = r.get("keys") or []
        if len(keys) > 1:  # one submission, several keys: one line each
            rows += [
                (f"key {i + 1}", f"{k['account']}: {k['api_key_masked']} stored as {k['vault_id']}")
                for i, k in enumerate(keys)
            ]
        rows += [(f"check: {k}", v) for k, v in (r.get("verification") or {}).items()]
        rows += [
            (
                f"attempt {i + 1}",
                f"{a['run_id']}: reached {a['reached']} ({a['state']}) {a['note']}",
            )
            for i, a in enumerate(en["attempts"])
        ]
        for k, v in rows:
            if v not in (None, ""):
                parts.append(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>")
        parts.append("</table>")
        if en["steps"]:
            parts.append("<table><tr><th>t (s)</th><th>step / state</th><th>result</th></tr>")
            for st in en["steps"]:
                if "step" in st:
                    what, res = st["step"], f"{st['status']} {st.get('seconds') or ''}"
                elif "state" in st:
                    what, res = f"state → {st['state']}", ""
                else:
                    what, res = "stopped", st.get("stopped") or ""
                parts.append(
                    f"<tr><td>{st['at']}</td><td>{e(str(what))}</td><td>{e(str(res))}</td></tr>"
                )
            parts.append("</table>")
        for shot in en["screenshots"]:
            p = Path(shot)
            try:
                data = base64.b64encode(p.read_bytes()).decode()
            except OSError:
                continue
            mark = f"@@IMG{len(images)}@@"
            images[mark] = f"data:image/png;base64,{data}"
            parts.append(f"<img alt='{e(p.name)}' title='{e(p.name)}' src='{mark}'>")
        parts.append("</div>")
    parts.append("</body></html>")
    # Redact the text; the screenshots were masked when taken and go in afterwards.
    text = redact("".join(parts))
    for mark, uri in images.items():
        text = text.replace(mark, uri, 1)
    return text


def write(journal: Journal, batch_id: str, settings: Settings, out_dir: Path | None) -> list[Path]:
    """Writes <dir>/<batch>.json and <dir>/<batch>.html (0600); returns their paths."""
    s = summary(journal, batch_id, settings)
    d = private_dir(out_dir or settings.home / "batches")
    paths = []
    for suffix, text in (
        (".json", json.dumps(s, indent=2)),
        (".html", render_html(s)),
    ):
        path = d / f"{batch_id}{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        paths.append(path)
    return paths
