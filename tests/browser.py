"""A real browser for the tests: Debian's Chromium, headless, driven by Playwright, with every request that leaves
this machine blocked. Screenshots are kept in test-artifacts/ (CI keeps them as artefacts)."""

from __future__ import annotations

from conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}  # a common phone, in CSS pixels


class Page:
    """A browser page in a context of its own (its own cookies: one signed-in person), that blocks every request
    leaving the machine and records console errors and failed responses."""

    def __init__(self, browser, allow_loopback: bool = True, viewport: dict | None = None, phone: bool = False):
        options = {"viewport": viewport or (PHONE if phone else DESKTOP)}
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.failed: list[tuple[int, str, str]] = []  # (status, resource type, URL) of every response >= 400
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "response", lambda r: r.status >= 400 and self.failed.append((r.status, r.request.resource_type, r.url))
        )

        def route(r):
            url = r.request.url
            local = url.startswith(("http://127.0.0.1", "http://localhost", "file://", "data:"))
            if local and (allow_loopback or not url.startswith("http")):
                r.continue_()
            else:
                self.blocked.append(url)
                r.abort()

        self.page.route("**/*", route)

    def open(self, url: str, leaflet: bool = True):
        self.page.goto(url, wait_until="networkidle")
        if leaflet:
            self.page.wait_for_function("window.L !== undefined")
        return self

    @property
    def script_errors(self) -> list[str]:
        """Console errors other than the browser's note of a page answering 4xx (a form's 400 is expected)."""
        pages = {url for _, kind, url in self.failed if kind == "document"}
        return [e for e in self.errors if not (e.startswith("Failed to load resource") and pages)]

    @property
    def failed_assets(self) -> list[tuple[int, str, str]]:
        """Scripts, styles, images and data that failed to load (pages answering 4xx on purpose excluded)."""
        return [f for f in self.failed if f[1] != "document"]

    def js(self, code: str):
        return self.page.evaluate(code)

    def shot(self, name: str, full: bool = False):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    def close(self):
        self.context.close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
