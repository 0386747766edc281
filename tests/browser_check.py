"""Open every page of a built book in headless Chromium and check what a reader sees.

For each HTML page of the build (``file://`` URLs, no server and no network, as a
reader opening ``_build/html/index.html`` would):

- **maths is typeset**: every equation Sphinx emitted became MathJax output, and
  no raw ``\\(``, ``\\[`` or ``$$`` delimiter is left in the visible text (code
  listings excluded: a regular expression may legitimately contain ``\\(``);
- **every image loads** (``naturalWidth > 0`` once the page has loaded);
- **internal links resolve**: the target file exists and, for ``#anchor`` links,
  the target page has an element with that id;
- **no local filesystem path** of the build machine shows in the text or in a
  link;
- **listings fit**: no code block or table needs horizontal scrolling in a
  1280-pixel-wide window (package code and chapter cells are at most 88
  characters a line).

Run it as a script::

    python tests/browser_check.py _build/check/_build/html \
        --screenshots _build/screenshots --screenshot-page 01_energy_models

It prints one line per problem and exits with status 1 if there are any.
``tests/test_browser_check.py`` feeds it pages with each defect.
"""

from __future__ import annotations

import argparse
import dataclasses
import html.parser
import os
import re
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from selenium.common.exceptions import TimeoutException

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER_CANDIDATES = ("chromedriver",)

# Text outside code that still holds TeX delimiters was not typeset.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{")

# Absolute paths a reader's page should never show: the build machine's home,
# scratch and install directories.  Generic ``~/.keras`` style paths are fine.
LOCAL_PATH = re.compile(
    r"(?<![\w.~:/-])(?:/(?:home|root|tmp|work|Users|private|var/folders|opt|srv)"
    r"/[\w.@+-]+|[A-Za-z]:\\Users\\)|site-packages"
)

# Runs in the page once it has loaded: waits for MathJax to finish, for every
# image to settle, then reports what a reader would see.
_INSPECT_PAGE = r"""
const done = arguments[arguments.length - 1];
(async () => {
  try { done(await inspect()); } catch (error) { done({error: String(error)}); }
})();
async function inspect() {
  // Each wait is bounded, so one stalled resource cannot hang the check.
  const within = (promise, ms, what) => Promise.race([
    promise.then(() => null, () => null),
    new Promise(resolve => setTimeout(() => resolve(what), ms)),
  ]);
  const stalled = [];
  if (document.readyState !== "complete") {
    const loaded = new Promise(resolve => window.addEventListener("load", resolve));
    stalled.push(await within(loaded, 20000, "page load"));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    stalled.push(await within(MathJax.startup.promise, 20000, "MathJax"));
  }
  const images = Array.from(document.images);
  for (const img of images) { img.loading = "eager"; }
  stalled.push(await within(
    Promise.all(images.map(img => img.decode().catch(() => null))), 20000, "images"));
  const main = document.querySelector("main") || document.body;
  // Listings and cells that need horizontal scrolling at this window width.
  const overflowing = Array.from(main.querySelectorAll("pre"))
    .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => {
      const widest = pre.innerText.split("\n")
        .reduce((a, b) => (b.length > a.length ? b : a), "");
      return `${widest.length} characters: ${widest.slice(0, 60)}`;
    })
    .concat(Array.from(main.querySelectorAll("table"))
      .filter(table => table.parentElement
              && table.scrollWidth > table.parentElement.clientWidth + 1)
      .map(table => `a table ${table.scrollWidth} px wide in ` +
                    `${table.parentElement.clientWidth} px`));
  const visible = main.cloneNode(true);
  visible.querySelectorAll("pre, code, script, style, mjx-container, .MathJax")
    .forEach(node => node.remove());
  return {
    overflowing,
    stalled: stalled.filter(x => x),
    mathjax: !!(window.MathJax && MathJax.startup),
    equations: document.querySelectorAll(".math").length,
    typeset: document.querySelectorAll("mjx-container").length,
    text: visible.innerText,
    fullText: document.body.innerText,
    brokenImages: images.filter(img => !(img.complete && img.naturalWidth > 0))
      .map(img => img.getAttribute("src")),
    links: Array.from(document.querySelectorAll("a[href]"))
      .map(a => a.getAttribute("href")),
    sources: Array.from(document.querySelectorAll("[src]"))
      .map(node => node.getAttribute("src")),
  };
}
"""


@dataclasses.dataclass(frozen=True)
class Problem:
    """One defect on one page."""

    page: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


def find_executable(candidates, env_var):
    """The first of ``candidates`` on PATH (or ``$env_var``), else None."""
    chosen = os.environ.get(env_var)
    if chosen:
        return chosen
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    return None


def start_browser(width=1280, height=1600):
    """A headless Chromium driven by Selenium through the system chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = find_executable(CHROMIUM_CANDIDATES, "CHROMIUM")
    driver_path = find_executable(CHROMEDRIVER_CANDIDATES, "CHROMEDRIVER")
    if chromium is None or driver_path is None:
        raise RuntimeError(
            "browser_check needs Chromium and chromedriver (Debian: "
            "`apt-get install chromium chromium-driver`); set $CHROMIUM and "
            "$CHROMEDRIVER to use others."
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        # file:// pages may load their own scripts and fonts, nothing else.
        "--allow-file-access-from-files",
        "--proxy-server=127.0.0.1:9",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    return driver


class _Anchors(html.parser.HTMLParser):
    """Collects the ids (and legacy ``name`` anchors) of one HTML file."""

    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (key == "name" and tag == "a"):
                self.ids.add(value)


class LinkChecker:
    """Resolves relative links of a site on disk, caching each page's anchors."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._anchors = {}

    def anchors(self, path: Path):
        if path not in self._anchors:
            parser = _Anchors()
            parser.feed(path.read_text(encoding="utf-8", errors="replace"))
            self._anchors[path] = parser.ids
        return self._anchors[path]

    def problem(self, page: Path, href: str):
        """Why ``href`` on ``page`` does not resolve, or None if it does."""
        parts = urlsplit(href)
        if parts.scheme in ("http", "https", "mailto", "javascript", "data"):
            return None
        if parts.scheme == "file":
            target = Path(unquote(parts.path))
        elif parts.scheme:
            return None
        elif parts.path:
            target = page.parent / unquote(parts.path)
        else:
            target = page
        target = target.resolve()
        if self.root not in target.parents and target != self.root:
            return f"{href} points outside the book"
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            return f"{href} (no file {target.relative_to(self.root)})"
        fragment = unquote(parts.fragment)
        if fragment and target.suffix == ".html" and fragment not in self.anchors(target):
            return f"{href} (no anchor #{fragment} in {target.relative_to(self.root)})"
        return None


def site_pages(root: Path):
    """The book's own pages: every HTML file except Sphinx's generated indices."""
    skip_dirs = {"_static", "_sources", "_images", "_modules"}
    skip_files = {"genindex.html", "search.html", "py-modindex.html"}
    pages = []
    for path in sorted(root.rglob("*.html")):
        relative = path.relative_to(root)
        if skip_dirs & set(relative.parts[:-1]) or relative.name in skip_files:
            continue
        pages.append(path)
    return pages


def local_path_patterns(extra=()):
    """LOCAL_PATH plus this checkout's own absolute location and any ``extra``."""
    here = Path(__file__).resolve().parent.parent
    literal = [re.escape(str(p)) for p in (here, here.parent, *extra) if str(p) != "/"]
    return [LOCAL_PATH, re.compile("|".join(literal))] if literal else [LOCAL_PATH]


def inspect_page(driver, page: Path, root: Path, links: LinkChecker, path_patterns):
    """The problems of one page, as the browser shows it."""
    name = str(page.relative_to(root))
    driver.get(page.as_uri())
    try:
        seen = driver.execute_async_script(_INSPECT_PAGE)
    except TimeoutException:
        return [Problem(name, "timeout", "the page did not finish loading in 60 s")]
    # A redirect page (the book's root index.html) lands on another page:
    # its links are relative to where the browser ended up.
    page = Path(unquote(urlsplit(driver.current_url).path))
    if "error" in seen:
        return [Problem(name, "script error", seen["error"])]
    problems = [Problem(name, "timeout", f"{what} did not finish in 20 s")
                for what in seen["stalled"]]
    if seen["equations"]:
        if not seen["mathjax"]:
            problems.append(Problem(name, "maths", "MathJax did not load"))
        elif seen["typeset"] < seen["equations"]:
            problems.append(Problem(
                name, "maths",
                f"{seen['typeset']} of {seen['equations']} equations typeset",
            ))
    for match in list(RAW_TEX.finditer(seen["text"]))[:3]:
        context = seen["text"][max(0, match.start() - 30): match.end() + 30]
        problems.append(Problem(name, "raw TeX", " ".join(context.split())))
    for line in seen["overflowing"]:
        problems.append(Problem(name, "overflow", f"scrolls sideways: {line}"))
    for src in seen["brokenImages"]:
        problems.append(Problem(name, "image", f"{src} did not load"))
    for href in sorted(set(seen["links"])):
        why = links.problem(page, href)
        if why:
            problems.append(Problem(name, "link", why))
    for src in sorted(set(seen["sources"]) - set(seen["brokenImages"])):
        if urlsplit(src).scheme in ("", "file"):
            why = links.problem(page, src)
            if why:
                problems.append(Problem(name, "resource", why))
    # Links and sources that leave the book are reported above; what remains
    # is the text a reader sees (scripts that MathJax inserts carry absolute
    # file:// URLs into the book itself, which no reader sees).
    text = seen["fullText"]
    for pattern in path_patterns:
        match = pattern.search(text)
        if match:
            context = text[max(0, match.start() - 40): match.end() + 40]
            problems.append(Problem(name, "local path", " ".join(context.split())))
    return problems


def screenshot(driver, page: Path, out: Path):
    """Save the page's first screen, scrolled to its first equation if it has one."""
    driver.get(page.as_uri())
    driver.execute_async_script(_INSPECT_PAGE)
    driver.execute_script(
        "const m = document.querySelector('.math');"
        "if (m) { m.scrollIntoView({block: 'center'}); }"
    )
    time.sleep(0.2)
    out.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out))


def check_site(root, screenshot_dir=None, screenshot_pages=(), extra_paths=()):
    """Every problem on every page under ``root``; screenshots on request."""
    root = Path(root).resolve()
    pages = site_pages(root)
    if not pages:
        raise FileNotFoundError(f"no HTML pages under {root}; build the book first")
    links = LinkChecker(root)
    patterns = local_path_patterns(extra_paths)
    driver = start_browser()
    try:
        problems = []
        for page in pages:
            problems += inspect_page(driver, page, root, links, patterns)
        for stem in screenshot_pages:
            matches = [p for p in pages if p.stem == stem]
            if not matches:
                problems.append(Problem(stem, "screenshot", "no such page"))
                continue
            screenshot(driver, matches[0], Path(screenshot_dir) / f"{stem}.png")
    finally:
        driver.quit()
    return pages, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", help="the built book, e.g. _build/html")
    parser.add_argument("--screenshots", help="directory for PNG screenshots")
    parser.add_argument(
        "--screenshot-page", action="append", default=[],
        help="page stem to photograph (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.screenshot_page and not args.screenshots:
        parser.error("--screenshot-page needs --screenshots DIR")
    start = time.perf_counter()
    pages, problems = check_site(args.html_dir, args.screenshots, args.screenshot_page)
    for problem in problems:
        print(problem)
    seconds = time.perf_counter() - start
    print(f"browser_check: {len(pages)} pages, {len(problems)} problems, {seconds:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
