"""Browser fixtures: one headless Debian chromium per test process, one fresh context per
page, and a recorder that fails a test on any console error, page error, dialog or
Content-Security-Policy violation it did not declare as expected.

Screenshots go to ``tests/artifacts/`` (ignored by git), named after the test.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import require_service


class _OneRequestAtATime(ThreadedWSGIServer):
    """The live server runs one request at a time through Django.

    On SQLite the tests' database lives in memory: one connection, which the live server's
    threads share. Two requests of one page handled together (the ticket page loads its
    articles and similar tickets side by side) would use it at once, and SQLite answers
    "bad parameter or other API misuse". Connections are still accepted and read in their
    own threads (a browser's idle pre-connection blocks nobody); only Django is serialised.
    ``busy`` counts the requests in Django or waiting for it, for the teardown to wait on.
    """

    lock = threading.Lock()
    busy = 0
    counting = threading.Lock()

    def set_app(self, application: Any) -> None:
        def one_at_a_time(environ: Any, start_response: Any) -> Any:
            with _OneRequestAtATime.counting:
                _OneRequestAtATime.busy += 1
            try:
                with _OneRequestAtATime.lock:
                    return application(environ, start_response)
            finally:
                with _OneRequestAtATime.counting:
                    _OneRequestAtATime.busy -= 1

        super().set_app(one_at_a_time)


LiveServerThread.server_class = _OneRequestAtATime  # type: ignore[assignment]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Generous, as CI machines are shared; a passing test never waits for it.
TIMEOUT_MS = 15_000
PASSWORD = "correct horse battery staple"  # tests.factories.PersonFactory's password
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# Runs in every document before the page's own scripts (and, being injected by the
# browser, is not subject to the page's CSP). Violations are kept on the window for a
# test to read, and reported to Python at once so a navigation cannot lose them.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const violation = {
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile ? `${event.sourceFile}:${event.lineNumber}` : "",
    sample: event.sample,
    document: event.documentURI,
  };
  window.__cspViolations.push(violation);
  if (typeof window.__reportCspViolation === "function") {
    window.__reportCspViolation(violation);
  }
});
"""

_recorder_key = pytest.StashKey["BrowserProblems"]()


@dataclass
class BrowserProblems:
    """What went wrong in the pages of one test, and what the test said to allow."""

    problems: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(
        # Chromium asks for /favicon.ico once per browser, so whichever test comes first
        # would see its 404; test_pages_link_a_favicon_that_exists checks it instead.
        default_factory=lambda: [re.compile(r"^console error: .* 404 .*/favicon\.ico:")]
    )
    pages: list[Page] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Declare a problem as expected: any recorded line matching ``pattern`` is fine."""
        self.expected.append(re.compile(pattern))

    def add(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def watch(self, page: Page) -> None:
        self.pages.append(page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                self.add(f"console error: {message.text} ({_location(message)})")
            elif "Content Security Policy" in message.text:
                self.add(f"console {message.type}: {message.text} ({_location(message)})")

        def on_dialog(dialog: Dialog) -> None:
            self.add(f"dialog {dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.add(f"page error: {error}"))
        page.on("dialog", on_dialog)
        page.expose_function(
            "__reportCspViolation", lambda violation: self.add(_csp_line(violation))
        )
        page.add_init_script(RECORD_CSP_VIOLATIONS)

    def collect(self) -> None:
        """Pick up violations the current documents hold but have not reported yet."""
        for page in self.pages:
            try:
                violations = page.evaluate("window.__cspViolations || []")
            except PlaywrightError:  # closed, or navigating away: it reported already
                continue
            for violation in violations:
                self.add(_csp_line(violation))

    def screenshot_all(self, prefix: str) -> None:
        """What every open page showed, for a failed test."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(self.pages, start=1):
            try:
                page.screenshot(path=ARTIFACTS / f"{prefix}-{number}.png", full_page=True)
            except PlaywrightError:
                continue

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(e.search(p) for e in self.expected)]


def _location(message: ConsoleMessage) -> str:
    where = message.location
    return f"{where.get('url', '')}:{where.get('lineNumber', '')}"


def _csp_line(violation: dict[str, Any]) -> str:
    return (
        f"CSP violation: {violation['directive']} blocked {violation['blocked'] or '(inline)'}"
        f" at {violation['source'] or violation['document']}"
        + (f" sample={violation['sample']!r}" if violation.get("sample") else "")
    )


@pytest.fixture(scope="package")
def playwright_session() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        require_service("chromium", "install Debian's chromium: apt-get install chromium")
    # Playwright's sync API keeps its asyncio loop marked as running in this thread
    # between calls, so Django's async-safety guard would refuse every ORM call a
    # test makes while the browser is up. Nothing runs concurrently on that loop, so
    # lifting the guard for exactly the browser's lifetime is safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    browser = playwright_session.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def browser_problems(request: pytest.FixtureRequest) -> BrowserProblems:
    recorder = BrowserProblems()
    request.node.stash[_recorder_key] = recorder
    return recorder


@pytest.fixture
def open_page(
    browser: Browser, live_server: Any, browser_problems: BrowserProblems
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (its own cookies) on the live server."""
    contexts = []

    def open_page(**context_options: Any) -> Page:
        options = {"locale": "en-US", "timezone_id": "UTC", **context_options}
        context = browser.new_context(base_url=live_server.url, accept_downloads=True, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        browser_problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    # A page may still have requests in the server (htmx loads after the last assertion):
    # let them finish before the test's teardown empties the database under them.
    deadline = time.monotonic() + 30
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        if _OneRequestAtATime.busy:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.2:
            break
        time.sleep(0.02)


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    return open_page()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot as tests/artifacts/<test>--<step>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test_name = _artifact_name(request.node)

    def screenshot(page: Page, step: str) -> Path:
        path = ARTIFACTS / f"{test_name}--{step}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return screenshot


def _artifact_name(item: pytest.Item) -> str:
    return re.sub(r"[^\w-]+", "-", item.name).strip("-")


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After the test body, fail it on any browser problem it did not expect."""
    recorder = item.stash.get(_recorder_key, None)
    try:
        outcome = yield
    except BaseException:
        if recorder is not None:
            recorder.collect()
            recorder.screenshot_all(f"{_artifact_name(item)}--failure")
            if recorder.problems:
                item.add_report_section("call", "browser", "\n".join(recorder.problems))
        raise
    if recorder is not None:
        recorder.collect()
        if unexpected := recorder.unexpected():
            pytest.fail(
                "The browser reported problems:\n  " + "\n  ".join(unexpected), pytrace=False
            )
    return outcome
