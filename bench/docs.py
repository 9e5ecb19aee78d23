"""`python -m bench.docs`: what a new document costs the agent, by the worlds its looks use.

Why: Playwright builds its injected script (some 350 KB of page script, with the registered
selector engines in it) in each document, once per JavaScript world a call there uses: the
page's main world (the agent's own calls, `evaluate_all`, and every look that names one of
the agent's engines) and a utility world (a look made only of Playwright's own engines: text,
role, css). A run opens three documents; what a document costs is measured here alone.

Variants, each a new document (`page.goto` of the replica's login page) then its looks, in
one browser with the agent's engines registered and its page scripts installed, A B A B:
`main` (two looks with the agent's engines: the main world only), `both` (one of those and
one of Playwright's own: both worlds). Printed: medians of CPU (this process and every
descendant, from /proc) and wall per document, and `both` less `main`: the second world.
"""

from __future__ import annotations

import argparse

from bench.actions import measure


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", type=int, default=10, help="documents per variant per round")
    a = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from agent.browser import require_browser
    from agent.engine import engines, pagelib
    from replica.server import ReplicaServer

    with ReplicaServer() as srv, sync_playwright() as p:
        engines.register(p)
        browser = p.chromium.launch(headless=True, **require_browser(True, p).launch_kwargs())  # type: ignore[arg-type]
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        pagelib.install(context, still=True)
        page = context.new_page()
        url = srv.base_url + "/account/login"
        agents = page.locator(engines.NAMES[0] + "=" + engines.body(label="Email"))

        def main_world(_: int) -> None:
            page.goto(url)
            agents.count()
            page.locator("input").locator("ob-self=x").count()

        def both_worlds(_: int) -> None:
            page.goto(url)
            agents.count()
            page.locator("input").count()

        res = measure({"main": main_world, "both": both_worlds}, a.rounds, a.n)
    print("per new document: CPU and wall (ms), median over rounds")
    for k, (c, w) in res.items():
        print(f"  {k:5s} CPU {c:6.1f}  wall {w:6.1f}")
    print(f"  the second world: CPU {res['both'][0] - res['main'][0]:+.1f} ms per document")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
