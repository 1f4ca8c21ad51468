"""Check in a headless browser that the built documentation renders.

Usage::

    python docs/check_rendering.py [docs/_build/html]

Opens four pages of the built site in headless Chromium (the index, the math
page, a gallery page and an API page), lets their scripts run, and checks in
the rendered DOM that

* every formula was typeset by MathJax (each ``math`` element holds an
  ``mjx-container``, and none holds a MathJax error),
* the section navigation on the left lists pages (the index, which has no
  sidebar, must list the sections in its header instead),

and that a screenshot of each page is not blank. Screenshots are written
beside the site, to ``<html>/../screenshots``. Without a Chromium on the PATH
(``chromium``, ``chromium-browser``, ``google-chrome``; or set ``CHROMIUM``),
it prints why it skips and exits 0. Exit status 1 when a check fails.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# page -> where its navigation is: the left sidebar, or the header for the index
PAGES = {
    "index.html": "header",
    "guide/math.html": "sidebar",
    "auto_examples/plot_check_gradients.html": "sidebar",
    "generated/skbackprop.MLPBackprop.html": "sidebar",
}


class _Rendering(HTMLParser):
    """Count formulas, typeset formulas, MathJax errors and navigation links."""

    def __init__(self):
        super().__init__()
        self.stack = []  # (tag, role) of the open elements; role in math/sidebar/header
        self.formulas = 0
        self.typeset = 0
        self.errors = 0
        self.links = {"sidebar": 0, "header": 0}
        self._typeset_here = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        role = None
        if tag in ("span", "div") and "math" in classes:
            role = "math"
            self.formulas += 1
            self._typeset_here.append(False)
        elif "bd-sidenav" in classes:
            role = "sidebar"
        elif "navbar-nav" in classes:
            role = "header"
        roles = {r for _, r in self.stack}
        if tag == "mjx-container" and "math" in roles and not self._typeset_here[-1]:
            self._typeset_here[-1] = True
            self.typeset += 1
        if tag == "mjx-merror":
            self.errors += 1
        if tag == "a":
            for place in ("sidebar", "header"):
                if place in roles:
                    self.links[place] += 1
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "col"):
            self.stack.append((tag, role))

    def handle_endtag(self, tag):
        # pop up to the matching tag; the DOM Chromium dumps is well formed
        while self.stack:
            open_tag, role = self.stack.pop()
            if role == "math":
                self._typeset_here.pop()
            if open_tag == tag:
                break


def _find_browser():
    candidates = [os.environ.get("CHROMIUM")] + list(BROWSERS)
    for name in filter(None, candidates):
        path = shutil.which(name)
        if path:
            return path
    return None


def _chromium(browser, profile, *args):
    command = [
        browser,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1300,900",
        # time for MathJax to typeset before the DOM or the picture is taken
        "--virtual-time-budget=20000",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _blank(png):
    """True when the picture is one flat colour (nothing was drawn)."""
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[..., :3]
    return float(pixels.std()) < 0.02


def check(html_dir, shots_dir, browser):
    """Check every page of ``PAGES``; return the list of failures."""
    failures = []
    shots_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        for page, navigation in PAGES.items():
            path = html_dir / page
            if not path.exists():
                failures.append(f"{page}: not built")
                continue
            url = path.resolve().as_uri()
            rendering = _Rendering()
            rendering.feed(_chromium(browser, profile, "--dump-dom", url))
            png = shots_dir / (page.replace("/", "_").removesuffix(".html") + ".png")
            _chromium(browser, profile, f"--screenshot={png}", url)
            problems = []
            if rendering.formulas == 0:
                problems.append("no formula on the page")
            if rendering.typeset < rendering.formulas:
                missing = rendering.formulas - rendering.typeset
                problems.append(
                    f"{missing} of {rendering.formulas} formulas not typeset"
                )
            if rendering.errors:
                problems.append(f"{rendering.errors} MathJax errors")
            if rendering.links[navigation] == 0:
                problems.append(f"empty {navigation} navigation")
            if _blank(png):
                problems.append(f"blank screenshot {png}")
            status = "ok" if not problems else "FAIL: " + "; ".join(problems)
            links = f"{rendering.links[navigation]} {navigation} links"
            print(
                f"{page}: {rendering.typeset}/{rendering.formulas} formulas typeset, "
                f"{links}, {png.name}: {status}"
            )
            failures += [f"{page}: {p}" for p in problems]
    return failures


def main(argv=None):
    """Run the checks; exit status 0 when they pass or are skipped."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("html", nargs="?", default="docs/_build/html", type=Path)
    args = parser.parse_args(argv)
    browser = _find_browser()
    if browser is None:
        print(
            "check_rendering: SKIPPED, no headless Chromium found (looked for "
            f"{', '.join(BROWSERS)} on the PATH and $CHROMIUM); "
            "install one, e.g. apt-get install chromium"
        )
        return 0
    print(f"check_rendering: {browser}, pages of {args.html}")
    failures = check(args.html, args.html.parent / "screenshots", browser)
    if failures:
        print("check_rendering: FAILED\n  " + "\n  ".join(failures))
        return 1
    print("check_rendering: every page renders its formulas and its navigation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
