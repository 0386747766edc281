"""The browser check itself: it passes a good page and catches each defect.

The pages here are written by hand, one defect each, and opened in the same
headless Chromium that checks the built book (``make browser-check``).  Without
Chromium the tests are skipped, unless ``$RBMTUT_REQUIRE_BROWSER`` is set (CI
sets it, so there a missing browser fails instead of skipping).
"""

import base64
import os
import shutil
from pathlib import Path

import pytest

import browser_check

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HAVE_BROWSER = (
    browser_check.find_executable(browser_check.CHROMIUM_CANDIDATES, "CHROMIUM")
    and browser_check.find_executable(browser_check.CHROMEDRIVER_CANDIDATES, "CHROMEDRIVER")
)
if not HAVE_BROWSER:
    if os.environ.get("RBMTUT_REQUIRE_BROWSER"):
        raise RuntimeError("RBMTUT_REQUIRE_BROWSER is set but Chromium/chromedriver are missing")
    pytest.skip("needs Chromium and chromedriver", allow_module_level=True)

# A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

MATHJAX_SETUP = """<script>window.MathJax = {tex: {inlineMath: [["\\\\(", "\\\\)"]],
  displayMath: [["\\\\[", "\\\\]"]], processEscapes: true},
  options: {processHtmlClass: "math|output_area"}};</script>
<script defer src="_static/mathjax/tex-chtml.js"></script>"""


def page(body, head=""):
    return f"<!doctype html><html><head>{head}</head><body><main>{body}</main></body></html>"


GOOD = page(
    '<p>An equation <span class="math notranslate nohighlight">\\(e^{-F(v)}/Z\\)</span>'
    ' and a display</p><div class="math notranslate nohighlight">\\[ p(v) = 1 \\]</div>'
    '<pre>re.compile(r"\\(")  # code may hold delimiters</pre>'
    '<p><img src="_images/pixel.png" alt="pixel"> <a href="other.html#here">there</a>'
    ' <a href="other.html">page</a> <a href="https://example.org/">out</a>'
    " ~/.keras/datasets/mnist.npz is how a reader writes the cache</p>",
    head=MATHJAX_SETUP,
)

BAD_PAGES = {
    "raw_tex": ({"raw TeX"}, page('<p>No MathJax here: \\(x^2\\) and \\[ y \\]</p>')),
    "untypeset": ({"maths", "raw TeX"}, page('<p><span class="math">\\(x\\)</span></p>')),
    "missing_image": ({"image"}, page('<p><img src="_images/missing.png" alt=""></p>')),
    "broken_link": ({"link"}, page('<p><a href="no_such_page.html">gone</a></p>')),
    "broken_anchor": ({"link"}, page('<p><a href="other.html#nowhere">gone</a></p>')),
    "outside_link": ({"link"}, page('<p><a href="../../elsewhere/x.html">out</a></p>')),
    "local_path": ({"local path"}, page("<p>MNIST source RBMTUT_DATA_DIR "
                                      "(/root/shared/data/mnist.npz)</p>")),
    "overflow": ({"overflow"}, page("<pre>" + "x" * 400 + "</pre>")),
    "wide_table": ({"overflow"}, page('<div style="width:300px;overflow-x:auto">'
                                      '<table><tr><td style="white-space:nowrap">'
                                      + "wide " * 100 + "</td></tr></table></div>")),
    "site_packages": ({"local path"}, page("<pre>/usr/lib/python3/site-packages/keras/x.py:"
                                         " UserWarning</pre>")),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site") / "html"
    (root / "_images").mkdir(parents=True)
    (root / "_images" / "pixel.png").write_bytes(PIXEL)
    mathjax = Path(pytest.importorskip("sphinx-mathjax-offline").__file__).parent
    shutil.copytree(mathjax / "static" / "mathjax", root / "_static" / "mathjax")
    (root / "other.html").write_text(page('<h2 id="here">Here</h2>'), encoding="utf-8")
    (root / "good.html").write_text(GOOD, encoding="utf-8")
    for name, (_, html) in BAD_PAGES.items():
        (root / f"{name}.html").write_text(html, encoding="utf-8")
    pages, problems = browser_check.check_site(
        root, screenshot_dir=root.parent / "shots", screenshot_pages=["good"]
    )
    return root, pages, problems


def kinds_on(problems, name):
    return {p.kind for p in problems if p.page == f"{name}.html"}


def test_every_page_is_opened(site):
    root, pages, _ = site
    assert {p.stem for p in pages} == {"good", "other", *BAD_PAGES}


def test_good_page_passes_with_its_maths_typeset(site):
    _, _, problems = site
    assert kinds_on(problems, "good") == set()
    assert kinds_on(problems, "other") == set()


@pytest.mark.parametrize("name", sorted(BAD_PAGES))
def test_each_defect_is_caught(site, name):
    _, _, problems = site
    assert kinds_on(problems, name) == BAD_PAGES[name][0]


def test_screenshot_is_a_png(site):
    root, _, _ = site
    shot = root.parent / "shots" / "good.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 1000


def test_main_exit_status_counts_problems(site, capsys):
    root, _, _ = site
    assert browser_check.main([str(root)]) == 1
    out = capsys.readouterr().out
    assert "no_such_page.html" in out and "problems" in out.splitlines()[-1]
