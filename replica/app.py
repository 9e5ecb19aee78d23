"""The replica's Starlette app: OKX-path pages, the page's private JSON API, REST, controls.

Paths follow okx.com (`/account/login`, `/account/my-api`, `/priapi/...`,
`/api/v5/...`). Everything under `/replica/` exists only here: the outbox that
stands in for the client's phone and mailbox, and test controls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import segno
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from replica.i18n import FR, translate_message, translator
from replica.mutations import HIDE_CSS, Text, aria_group, rename_classes, wrap_tags
from replica.scenarios import MARK_COLOR, describe
from replica.state import ApiKey, ReplicaError, Session, World

HERE = Path(__file__).parent
COOKIE = "token"

# Sub-nav of the account pages (screenshot 02), path -> tab label.
ACCOUNT_TABS = [
    ("/account/users", "Overview"),
    ("/account/profile", "Profile"),
    ("/account/security", "Security"),
    ("/account/verification", "Verification"),
    ("/account/setting", "Preferences"),
    ("/account/sub-account", "Sub-accounts"),
    ("/account/my-api", "API keys"),
    ("/account/third-party-authorization", "Third-party authorization"),
]


class DelayMiddleware:
    """`slow` scenario: every response waits; replica controls stay fast."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        delay = self.world.knobs.delay
        if delay and scope["type"] == "http" and not scope["path"].startswith("/replica/"):
            await asyncio.sleep(delay)
        await self.app(scope, receive, send)


# `prefixed`: every class token of the okui library gets a CSS-module prefix.
OKUI_TOKEN = re.compile(r"(?<![\w-])okui-")
PREFIX = "balance_"


def prefix_okui(text: str) -> str:
    """`okui-select` -> `balance_okui-select` in served HTML, CSS and JS alike."""
    return OKUI_TOKEN.sub(PREFIX + "okui-", text)


def ok(data: Any = None) -> JSONResponse:
    return JSONResponse({"code": "0", "msg": "", "data": data})


def fail(err: ReplicaError) -> JSONResponse:
    return JSONResponse(
        {"code": str(err.status), "msg": err.message, "field": err.field, "data": None},
        status_code=err.status,
    )


def key_created_view(k: ApiKey, marked: bool = False) -> dict[str, Any]:
    """The created modal's data: the only time a secret leaves the replica.

    `marked` (test-only scenario): the QR code is drawn in the marker colour.
    """
    info = {
        "label": k.label,
        "apiKey": k.api_key,
        "secretKey": k.secret,
        "perms": k.perms,
        "ips": k.ips,
        "usedFor": k.used_for,
        "account": k.account,
    }
    qr = segno.make(json.dumps({"apiKey": k.api_key, "secretKey": k.secret}), error="m")
    # omitsize: a viewBox instead of width/height, so the code scales to its box.
    colour = {"dark": MARK_COLOR} if marked else {}
    info["qrSvg"] = qr.svg_inline(scale=3, border=2, omitsize=True, **colour)
    return info


def build_app(world: World) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    def aria(**attrs: Any) -> Markup:
        """Role/ARIA attributes, rendered only in the `aria` DOM mode (`aria_label` -> aria-label).

        okx.com's public markup shows none; the `aria` scenario adds them back.
        """
        if world.knobs.dom != "aria":
            return Markup("")
        strip = (world.knobs.mutations.get("aria-strip") or {}).get("groups", [])
        out = "".join(
            f' {k.replace("_", "-")}="{escape(v)}"'
            for k, v in attrs.items()
            if v is not None
            and v is not False
            and aria_group(k.replace("_", "-"), str(v)) not in strip
        )
        return Markup(out)

    templates.env.globals["aria"] = aria

    def french(request: Request) -> bool:
        return world.knobs.lang_fr and request.cookies.get("locale") != "en"

    def served(text: str) -> str:
        """The one rewrite of everything served (HTML, CSS, JS): class names as built."""
        if world.knobs.dom == "prefixed":
            text = prefix_okui(text)
        rename = world.knobs.mutations.get("class-rename")
        return rename_classes(text, rename) if rename else text

    def page_helpers() -> dict[str, Any]:
        """The templates' view of the seed's mutations (replica/mutations.py); with none,
        every helper writes exactly what the templates wrote before."""
        mut = world.knobs.mutations
        salt = world.knobs.css_salt
        wrappers = mut.get("wrappers")
        buttons = mut.get("button-div")

        def wrap(what: str, tag: str = "div") -> tuple[Markup, Markup]:
            if not wrappers or what not in wrappers["targets"]:
                return Markup(""), Markup("")
            opens, closes = wrap_tags(wrappers["depth"], salt, tag, what)
            return Markup(opens), Markup(closes)

        def btag(which: str) -> str:
            """`button`, or `div` where a release renders that button as a clickable div."""
            return "div" if buttons and which in buttons["targets"] else "button"

        def battrs(which: str) -> Markup:
            if btag(which) == "div":
                return Markup(f' data-okx-divbtn="{escape(which)}"')
            return Markup(' type="button"')

        return {
            "mut": mut,
            "mut_js": {**mut, "_salt": salt} if mut else None,
            "txt": Text(mut, salt),
            "wrap_open": lambda what, tag="div": wrap(what, tag)[0],
            "wrap_close": lambda what, tag="div": wrap(what, tag)[1],
            "btag": btag,
            "battrs": battrs,
            "hide_css": HIDE_CSS,
        }

    def current(request: Request) -> Session | None:
        s = world.session(request.cookies.get(COOKIE))
        if s is None and world.knobs.logged_in:
            s = world.standing_session()
        return s

    def h(name: str) -> str:
        """A CSS-module style hashed class (`index_title__3fK9a`): noise no locator may use."""
        digest = hashlib.sha1(f"{world.knobs.css_salt}:{name}".encode()).hexdigest()[:5]
        return f"index_{name}__{digest}"

    def render(request: Request, name: str, s: Session | None, **ctx: Any) -> Response:
        acct = world.account(s) if s else None
        lang_fr = french(request)
        context = {
            "h": h,
            "fr": lang_fr,
            "t": translator(lang_fr),
            "strings": FR if lang_fr else {},
            "dom": world.knobs.dom,
            "api_path": "/account/api-management" if world.knobs.api_moved else "/account/my-api",
            "dismissed": request.cookies.get("onboard_replica_seen", ""),
            "user": acct,
            "masked_email": acct.masked_email() if acct else "",
            "tabs": ACCOUNT_TABS,
            "path": request.url.path,
            "knobs": world.knobs,
            "mark": MARK_COLOR if world.knobs.marked else None,
            "page_name": name.removesuffix(".html"),
            **page_helpers(),
            **ctx,
        }
        html = templates.get_template(name).render(context)
        return HTMLResponse(served(html))

    def login_redirect(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/account/login?forward={quote(target, safe='')}", 302)

    # -- pages -------------------------------------------------------------
    async def home(request: Request) -> Response:
        return render(request, "home.html", current(request))

    async def login_page(request: Request) -> Response:
        forward = request.query_params.get("forward", "/account/users")
        if not forward.startswith("/") or forward.startswith("//"):
            forward = "/account/users"
        return render(request, "login.html", current(request), forward=forward)

    def account_page(template: str, title: str, arm_expiry: bool = False) -> Any:
        async def page(request: Request) -> Response:
            s = current(request)
            if s is None:
                return login_redirect(request)
            if arm_expiry:
                if world.knobs.phishing_redirect and request.url.hostname != "localhost":
                    other = request.url.replace(hostname="localhost")
                    return RedirectResponse(str(other), 302)
                world.arm_expiry(s)
            return render(request, template, s, title=title)

        return page

    keys_page = account_page("api-keys.html", "API keys")

    async def api_keys_page(request: Request) -> Response:
        """api-moved: the old path sends you to Overview, the new one serves the page.
        ?go-demo-trading=1 / ?go-live-trading=1 switch the session's trading mode (okx.com)."""
        moved = world.knobs.api_moved
        if (request.url.path == "/account/my-api") == moved:
            return RedirectResponse("/account/users" if moved else "/account/my-api", 302)
        s = current(request)
        if s is not None:
            if request.query_params.get("go-demo-trading") == "1":
                s.demo = True
            elif request.query_params.get("go-live-trading") == "1":
                s.demo = False
        response: Response = await keys_page(request)
        return response

    # -- the page's private API --------------------------------------------
    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except Exception:
            return {}
        return data if isinstance(data, dict) else {}

    def authed(request: Request) -> Session:
        s = current(request)
        if s is None or not world.check_alive(s):
            raise ReplicaError("Your session has expired. Log in again.", None, 401)
        return s

    def api(fn: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except ReplicaError as err:
                if french(request):
                    err.message = translate_message(err.message)
                return fail(err)

        return endpoint

    @api
    async def login_precheck(request: Request) -> Response:
        d = await body(request)
        email, password = str(d.get("email", "")), str(d.get("password", ""))
        acct = world.accounts.get(email.strip().lower())
        if acct is None or acct.password != password:
            raise ReplicaError("Incorrect email or password", "password", 401)
        return ok({"needTotp": world.needs_totp(email)})

    @api
    async def login(request: Request) -> Response:
        d = await body(request)
        s = world.login(str(d.get("email", "")), str(d.get("password", "")), d.get("totp"))
        resp = ok({"uid": world.account(s).uid})
        # Persistent like okx.com's, so a client's profile stays logged in between sessions.
        resp.set_cookie(COOKIE, s.token, max_age=7 * 86400, httponly=True, samesite="lax", path="/")
        return resp

    @api
    async def logout(request: Request) -> Response:
        world.logout(request.cookies.get(COOKIE))
        resp = ok()
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @api
    async def profile(request: Request) -> Response:
        acct = world.account(authed(request))
        return ok(
            {
                "email": acct.masked_email(),
                "uid": acct.uid,
                "subaccounts": acct.subaccounts,
                "factors": acct.factors,
            }
        )

    @api
    async def list_keys(request: Request) -> Response:
        acct = world.account(authed(request))
        which = request.query_params.get("account", "main")
        keys = [k.public() for k in acct.keys_of(which, authed(request).demo)]
        return ok({"account": which, "keys": keys, "limit": 50})

    @api
    async def submit(request: Request) -> Response:
        s = authed(request)
        d = await body(request)
        raw = list(d.get("drafts") or [])
        got = d.get("decoys")
        decoys: dict[str, Any] = got if isinstance(got, dict) else {}
        entry = world.record_submit(raw, decoys)
        try:
            ch = world.start_challenge(s, raw)
        except ReplicaError as err:
            entry["result"] = f"refused: {err.message}"
            raise
        entry["result"] = "verification"
        acct = world.account(s)
        targets = {"totp": "", "sms": acct.masked_phone(), "email": acct.masked_email()}
        steps = [{"factor": f, "target": targets[f]} for f in ch.steps]
        return ok({"challengeId": ch.id, "steps": steps})

    @api
    async def verify(request: Request) -> Response:
        s = authed(request)
        d = await body(request)
        cid, factor = str(d.get("challengeId", "")), str(d.get("factor", ""))
        created = world.verify(s, cid, factor, str(d.get("code", "")))
        if created is None:
            ch = world.challenges[cid]
            return ok({"next": ch.current(), "keys": None})
        views = [key_created_view(k, world.knobs.marked) for k in created]
        return ok({"next": None, "keys": views})

    @api
    async def resend(request: Request) -> Response:
        d = await body(request)
        world.resend(authed(request), str(d.get("challengeId", "")), str(d.get("factor", "")))
        return ok()

    @api
    async def cancel(request: Request) -> Response:
        d = await body(request)
        world.cancel(authed(request), str(d.get("challengeId", "")))
        return ok()

    @api
    async def delete_key(request: Request) -> Response:
        d = await body(request)
        world.delete_key(authed(request), str(d.get("apiKey", "")))
        return ok()

    # -- replica-only controls ---------------------------------------------
    async def outbox(request: Request) -> Response:
        to = request.query_params.get("to")
        channel = request.query_params.get("channel")
        with world.lock:
            msgs = [
                {
                    "to": m.to,
                    "channel": m.channel,
                    "code": m.code,
                    "challenge": m.challenge,
                    "sentAt": m.sent_at,
                }
                for m in world.outbox
                if (not to or m.to == to) and (not channel or m.channel == channel)
            ]
        return JSONResponse({"messages": msgs})

    async def reset(request: Request) -> Response:
        d = await body(request)
        mutate = d.get("mutate")
        try:
            world.reset(list(d.get("scenarios") or []), None if mutate is None else str(mutate))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        out: dict[str, Any] = {"scenarios": world.scenario_names}
        if world.mutations is not None:
            out["mutations"] = world.mutations.to_json()
        return JSONResponse(out)

    async def mutations(request: Request) -> Response:
        """The active seed's page mutations (replica-only): {seed, kinds, mutations} or nulls."""
        m = world.mutations
        return JSONResponse(m.to_json() if m else {"seed": None, "kinds": [], "mutations": []})

    async def submits(request: Request) -> Response:
        """What each field held at each Submit all, as the page sent it, and decoy clicks."""
        with world.lock:
            return JSONResponse(
                {"submits": list(world.submits), "decoyClicks": list(world.decoy_clicks)}
            )

    async def decoy(request: Request) -> Response:
        """A decoy control was clicked (the page reports it; nothing else happens)."""
        world.record_decoy_click(str((await body(request)).get("which", "")))
        return JSONResponse({"ok": True})

    async def scenarios(request: Request) -> Response:
        return JSONResponse({"active": world.scenario_names, "known": describe()})

    async def issued(request: Request) -> Response:
        with world.lock:
            keys = [
                {
                    "label": k.label,
                    "account": k.account,
                    "apiKey": k.api_key,
                    "secretKey": k.secret,
                    "passphrase": k.passphrase,
                    "perms": k.perms,
                    "ips": k.ips,
                    "demo": k.demo,
                    # the created dialog's Complete: clicked how often (0: never)
                    "completeClicks": world.complete_clicks(k),
                }
                for k in world.issued
            ]
        return JSONResponse({"keys": keys})

    async def rest_calls(request: Request) -> Response:
        """Every sub-account key management call over REST as received (no passphrase)."""
        with world.lock:
            return JSONResponse({"calls": list(world.rest_calls)})

    async def complete(request: Request) -> Response:
        """The created dialog's Complete button reports its click here (for tests)."""
        try:
            world.complete(str((await body(request)).get("challengeId", "")))
        except ReplicaError as err:
            return fail(err)
        return JSONResponse({"ok": True})

    async def all_keys(request: Request) -> Response:
        with world.lock:
            out = {a.email: [k.public() for k in a.keys] for a in world.accounts.values()}
        return JSONResponse(out)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    scripts = {p.name: p for p in (HERE / "static").glob("*.js")}

    async def static(request: Request) -> Response:
        """The page JS, read per request: `prefixed` rewrites it, so nothing may cache it."""
        path = scripts.get(request.path_params["name"])
        if path is None:
            return Response("Not Found", status_code=404)
        return Response(
            served(path.read_text(encoding="utf-8")),
            media_type="application/javascript",
            headers={"Cache-Control": "no-store"},
        )

    from replica.rest import rest_routes

    routes = [
        Route("/", home),
        Route("/account/login", login_page),
        *[
            Route(path, account_page("account.html", label))
            for path, label in ACCOUNT_TABS
            if path != "/account/my-api"
        ],
        Route("/account/my-api", api_keys_page),
        Route("/account/api-management", api_keys_page),
        Route(
            "/account/my-api/create",
            account_page("create.html", "Create API keys", arm_expiry=True),
        ),
        Route("/priapi/v1/user/login/precheck", login_precheck, methods=["POST"]),
        Route("/priapi/v1/user/login", login, methods=["POST"]),
        Route("/priapi/v1/user/logout", logout, methods=["POST"]),
        Route("/priapi/v1/user/profile", profile),
        Route("/priapi/v5/account/api-keys", list_keys),
        Route("/priapi/v5/account/api-keys/submit", submit, methods=["POST"]),
        Route("/priapi/v5/account/api-keys/verify", verify, methods=["POST"]),
        Route("/priapi/v5/account/api-keys/resend", resend, methods=["POST"]),
        Route("/priapi/v5/account/api-keys/cancel", cancel, methods=["POST"]),
        Route("/priapi/v5/account/api-keys/delete", delete_key, methods=["POST"]),
        *rest_routes(world),
        Route("/replica/outbox", outbox),
        Route("/replica/reset", reset, methods=["POST"]),
        Route("/replica/scenarios", scenarios),
        Route("/replica/issued", issued),
        Route("/replica/complete", complete, methods=["POST"]),
        Route("/replica/keys", all_keys),
        Route("/replica/mutations", mutations),
        Route("/replica/submits", submits),
        Route("/replica/rest-calls", rest_calls),
        Route("/replica/decoy", decoy, methods=["POST"]),
        Route("/replica/health", health),
        Route("/cdn/assets/okfe/{name}", static),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(DelayMiddleware, world=world)  # type: ignore[arg-type]
    return app
