"""Every page, for every role, at 1280 and 390 px, in Chromium: no axe-core violation of impact
serious or critical, no sideways page scroll, no console error.

The pages are discovered, not listed: each role's walk starts from every URL pattern that takes no
argument (so a page nobody links to is still seen) and follows the links it finds on the way (so
detail pages are seen with real ids). One page per view is checked per role: a second issue page
adds time, not coverage. Data: the demo organisation, as a new user meets it.
"""

import html
import re
import time
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from tests.test_browser import ARTIFACTS, page  # noqa: F401  (page is a fixture)

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
ROLES = ("admin", "cx", "leader", "stakeholder")
# Not ours to fix or not a page: Django's admin (a read-only tool for administrators), the API
# (JSON; its Swagger UI is third-party), files (exports, templates), and links that act (log out).
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/accounts/logout/", "/healthz", "/favicon.ico")
# A walk is bounded: more pages than this for one role means the crawl is following something
# endless (a calendar, a pager) and should learn to skip it.
MAX_PAGES_PER_ROLE = 150
# Pages photographed at 390 px for each role (var/.../screenshots/phone-ROLE-VIEW.png).
SCREENSHOTS = {"home", "pareto", "issue-detail"}


def _pattern_urls(resolver=None, prefix=""):
    """Every URL pattern that takes no argument, as a path (e.g. "/rootcause/pareto/")."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if "<" in route or "(?P" in route or route.startswith("^"):
            continue
        if isinstance(entry, URLResolver):
            yield from _pattern_urls(entry, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route


def _view_key(path):
    """Pages of one view count once (the issue page for issue 3 is the issue page for issue 4)."""
    try:
        match = resolve(path)
    except Resolver404:
        return ("404", None)
    return (match.view_name, tuple(sorted(match.kwargs)))


def _wanted(path):
    return not path.startswith(SKIP_PREFIXES)


AXE_RUN = """async (rules) => {
  const options = {resultTypes: ['violations'], iframes: false};
  if (rules) options.runOnly = {type: 'rule', values: rules};
  const result = await axe.run(document, options);
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(
      n => n.target.join(' ') + ' :: ' + n.failureSummary.split('\\n').slice(0, 2).join(' '))}));
}"""
NEXT_FRAME = "() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)))"
# Every rule runs at the first width. At the second, what a narrower layout can change: colours
# over what now lies behind a text, boxes that now scroll, targets that now crowd each other.
LAYOUT_RULES = ["color-contrast", "scrollable-region-focusable", "target-size", "meta-viewport"]
OVERFLOW = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= window.innerWidth) return null;
  // Name the widest elements that stick out, to say what to fix.
  const out = [];
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 && r.width > 0 && !clipped(el)) {
      const classes = typeof el.className === 'string' ? el.className.trim().split(/\\s+/).join('.') : '';
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (classes ? '.' + classes : '') +
               ' right=' + Math.round(r.right));
    }
    if (out.length >= 3) break;
  }
  return {scrollWidth: root.scrollWidth, innerWidth: window.innerWidth, culprits: out};
}"""


def _log_in(tab, base, username, password):
    tab.goto(f"{base}/accounts/login/")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))


def _links(body, url, base):
    found = []
    for tag in re.findall(r"<a\s[^>]*>", body):
        href = re.search(r'\shref="([^"#][^"]*)"', tag)
        if not href or re.search(r"\sdownload[\s=>]", tag):
            continue
        parts = urlsplit(urljoin(url, html.unescape(href.group(1))))
        if f"{parts.scheme}://{parts.netloc}" == base:
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _check(tab, problems, label):
    """axe and the sideways-scroll check on the page as it stands, at each width (a resize, not a
    reload: media queries and Chart.js's responsive redraw follow the viewport)."""
    for width in WIDTHS:
        tab.set_viewport_size({"width": width, "height": 900})
        tab.evaluate(NEXT_FRAME)  # media queries and resize observers (Chart.js) have run
        overflow = tab.evaluate(OVERFLOW)
        if overflow:
            problems.append(f"{label} @{width}px scrolls sideways: {overflow}")
        for violation in tab.evaluate(AXE_RUN, None if width == WIDTHS[0] else LAYOUT_RULES):
            problems.append(f"{label} @{width}px axe {violation['impact']} {violation['id']}: {violation['nodes']}")


def _main(body):
    """The page's own content, without what changes per request (CSRF tokens, nonces)."""
    start, end = body.find("<main"), body.rfind("</main>")
    main = body[start:end] if start >= 0 else body
    return re.sub(r'(csrfmiddlewaretoken" value="|nonce=")[^"]*', "", main)


def _walk(tab, base, problems, console, role, checked):
    seen_keys, queue = set(), deque(p for p in _pattern_urls() if _wanted(p))
    queue.appendleft("/")
    visited = 0
    while queue:
        path = queue.popleft()
        key = _view_key(path.split("?")[0])
        if key in seen_keys:
            continue
        seen_keys.add(key)
        visited += 1
        assert visited <= MAX_PAGES_PER_ROLE, f"{role}: the walk found more than {MAX_PAGES_PER_ROLE} pages"
        # Asked first without the browser (same session cookies): files, empty 405s from POST-only
        # URLs and htmx fragments are not pages, and navigating to them only confuses Chromium.
        probe = tab.request.get(base + path)
        body = probe.text() if "text/html" in (probe.headers.get("content-type") or "") else ""
        if not body.lstrip()[:15].lower().startswith("<!doctype"):
            continue
        if probe.ok:
            queue.extend(p for p in _links(body, base + path, base) if _wanted(p))
        # A page another role already saw with the very same content (a 403, a list the roles
        # share) would only repeat the same checks: bounded runtime, same coverage.
        main = _main(body)
        if main in checked and key[0] not in SCREENSHOTS:
            continue
        checked.add(main)
        console.clear()
        response = tab.goto(base + path)
        label = f"{role} {path} ({response.status})"
        _check(tab, problems, label)
        if key[0] in SCREENSHOTS:  # the viewport is at the last width, a phone's: for a person to judge
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"phone-{role}-{key[0]}.png"), full_page=True)
        for message in console:
            problems.append(f"{label} console: {message}")
    return visited


def test_every_page_for_every_role_is_accessible_and_fits_a_phone(transactional_db, live_server, page):  # noqa: F811
    from cxgov.demo import DEMO_PASSWORD

    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: install the npm dev dependencies (npm ci; bin/setup does it).")
    started = time.monotonic()
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    loaded = time.monotonic()
    # axe-core is evaluated into each document by the DevTools protocol (an init script), which the
    # page's Content-Security-Policy does not govern: the policy stays on, exactly as users get it.
    page.context.add_init_script(path=str(AXE))
    console = []
    base = live_server.url

    def on_console(message):
        if message.type != "error":
            return
        # The browser reports the page's own 403/404 status as a failed load: that is the page
        # under test answering as it should, not a script error.
        if (
            "Failed to load resource" in message.text
            and message.location.get("url", "").split("?")[0] == page.url.split("?")[0]
        ):
            return
        console.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: console.append(f"uncaught: {error}"))

    problems, counts, checked = [], {}, set()
    # Signed out: the login page.
    page.goto(f"{base}/accounts/login/")
    _check(page, problems, "anonymous /accounts/login/")
    for role in ROLES:
        page.context.clear_cookies()
        _log_in(page, base, role, DEMO_PASSWORD)
        counts[role] = _walk(page, base, problems, console, role, checked)
    walked = time.monotonic()
    pareto = _pareto_on_a_phone(page, base)
    if pareto is not None:
        assert pareto["axis"] == "y" and not pareto["labelsCut"], pareto
        assert pareto["tableHeight"] < 2500, pareto
    print(f"\ndemo loaded in {loaded - started:.1f}s; walked {counts} pages", end=" ")
    print(f"({len(checked)} distinct, checked) in {walked - loaded:.1f}s")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "a11y-problems.txt").write_text("\n".join(problems))
    assert all(n >= 20 for n in counts.values()), counts  # the walk really walked
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:80])


def _pareto_on_a_phone(page, base):  # noqa: F811
    """The demo's Pareto at 390 px: bars lying down with their names across the screen, and a
    table of a few screens, not thousands of pixels of one-word lines."""
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{base}/rootcause/pareto/")
    if not page.locator("#pareto-chart").count():
        return None  # no tagged comments (the shared data is not on this machine)
    return page.evaluate(
        """() => ({axis: Chart.getChart('pareto-chart').options.indexAxis,
                  labelsCut: Chart.getChart('pareto-chart').scales.y.left < 0,
                  tableHeight: document.querySelector('.pareto-table').getBoundingClientRect().height})"""
    )
