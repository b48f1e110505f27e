"""End to end: JupyterLab on 127.0.0.1 runs notebook 10 in headless Chromium, and its widgets render.

The digit pad's canvas (an anywidget widget, nnlib/pad.js) is drawn on with real pointer events (mouse
down, moves, up), and the prediction shows; a second notebook blocks the import of anywidget and checks that
the pad falls back to its grid, saying why.

Needs Debian's chromium (/usr/bin/chromium) and playwright's Python package, which `.ci/run` installs;
playwright's own browser download is never used. Skipped, saying why, when either is missing.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "10_model_api_and_evaluation.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ERRORS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"  # tracebacks and warnings
FALLBACK = "fallback.ipynb"
# A notebook in which `import anywidget` fails, as where it is not installed: the pad must show its grid.
FALLBACK_CELLS = [
    "import sys\nsys.modules['anywidget'] = None   # import anywidget now raises ImportError",
    "import nnlib\nfrom nnlib.widgets import DigitPad\npad = DigitPad(nnlib.mlp([784, 16, 10], rng=0))\npad",
]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"),
    pytest.mark.skipif(not (ROOT / "notebooks" / NOTEBOOK).exists(), reason=f"{NOTEBOOK} is not written yet"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of notebook 10 (so the repository's file is never touched)."""
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp_path / NOTEBOOK)
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in FALLBACK_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / FALLBACK)
    port, token = _free_port(), "nnlib-browser-test"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.disable_check_xsrf=True",
            "--allow-root",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "lab.log", "wb"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    json.load(r)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("JupyterLab exited:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield base, token, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _open(page, base, token, name):
    """Open notebook ``name`` in JupyterLab and wait until its kernel is idle."""
    page.goto(f"{base}/lab/tree/{name}?token={token}", timeout=120_000)
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=120_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=120_000,
    )


def _stroke(page, canvas, points, steps=8):
    """Draw one stroke through ``points`` (canvas pixels, 0-280) with real mouse events: down, moves, up."""
    box = canvas.bounding_box()
    scale = box["width"] / 280

    def at(p):
        return box["x"] + p[0] * scale, box["y"] + p[1] * scale

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p), steps=steps)
    page.mouse.up()


def _wait_for_prediction(page, k):
    """Wait until the pad's label reads "prediction: k"."""
    page.wait_for_function(
        "k => [...document.querySelectorAll('.jupyter-widgets b')].some(b => b.textContent === 'prediction: ' + k)",
        arg=k,
        timeout=30_000,
    )


@contextlib.contextmanager
def _notebook(lab, name, shows, timeout):
    """A page of headless Chromium with notebook ``name`` open in JupyterLab and run: yields once a widget shows
    the text ``shows``; fails with the traceback if a cell raises first."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    base, token, _ = lab
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            _open(page, base, token, name)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # Wait for the text, or stop at the first traceback (no data, say) instead of timing out.
            page.wait_for_function(
                "text => [...document.querySelectorAll(" + json.dumps(ERRORS) + ")].some(e => e.textContent"
                ".includes('Traceback')) || [...document.querySelectorAll('.jupyter-widgets')].some("
                "w => w.textContent.includes(text))",
                arg=shows,
                timeout=timeout,
            )
            tracebacks = [t for t in page.locator(ERRORS).all_text_contents() if "Traceback" in t]
            if tracebacks:
                t = tracebacks[0]
                pytest.fail(
                    f"a cell of {name} raised in JupyterLab:\n"
                    + (t if len(t) < 3000 else f"{t[:600]}\n...\n{t[-2000:]}")
                )
            yield page
        finally:
            browser.close()


def test_notebook_10_widgets_render_in_jupyterlab(lab):
    tmp_path = lab[2]
    with _notebook(lab, NOTEBOOK, "mistakes in 10000 images", timeout=300_000) as page:
        # The test-set browser: its summary, an image and a prediction label.
        widgets = page.locator(".jupyter-widgets")
        widgets.get_by_text("mistakes in 10000 images").wait_for(timeout=10_000)
        widgets.get_by_text("predicted").first.wait_for(timeout=60_000)
        widgets.get_by_text("draw a digit on the canvas").wait_for(timeout=120_000)
        images = page.locator(".jupyter-widgets img")
        assert images.count() >= 2, "the widgets' images did not render"
        assert images.first.evaluate("img => img.naturalWidth") > 0
        # Clicking "next mistake" moves the browser to a wrong prediction.
        page.get_by_role("button", name="next mistake").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jupyter-widgets span')].some("
            "s => (s.getAttribute('style') || '').includes('crimson') && s.textContent.includes('predicted'))",
            timeout=30_000,
        )
        page.screenshot(path=str(tmp_path / "notebook10.png"), full_page=False)
        # The digit pad: a canvas (anywidget), its note about a missing canvas hidden once it shows.
        canvas = page.locator("canvas.nnlib-pad-canvas")
        canvas.wait_for(timeout=60_000)
        canvas.scroll_into_view_if_needed()
        assert canvas.evaluate("c => [c.width, c.height]") == [280, 280]
        page.get_by_text("No canvas above?").wait_for(state="hidden", timeout=30_000)
        # Draw a 7 with the mouse: the bar, then the stem (two strokes, real pointer events).
        _stroke(page, canvas, [(60, 50), (220, 50)])
        _stroke(page, canvas, [(218, 55), (170, 150), (130, 250)])
        inked = canvas.evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, 280, 280).data;"
            " let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] < 128; return n; }"
        )
        assert inked > 3000, f"the strokes did not draw on the canvas ({inked} dark pixels)"
        label = widgets.get_by_text("prediction:")
        label.wait_for(timeout=30_000)
        _wait_for_prediction(page, 7)
        widgets.get_by_text("what it looks at", exact=True).wait_for(timeout=10_000)
        page.screenshot(path=str(tmp_path / "digit_pad.png"), full_page=False)
        # The pad's clear button empties the canvas and the prediction.
        page.get_by_role("button", name="clear").click()
        widgets.get_by_text("draw a digit on the canvas").wait_for(timeout=30_000)
        page.wait_for_function(
            "() => { const c = document.querySelector('canvas.nnlib-pad-canvas');"
            " const d = c.getContext('2d').getImageData(0, 0, 280, 280).data;"
            " for (let i = 0; i < d.length; i += 4) if (d[i] < 128) return false; return true; }",
            timeout=30_000,
        )
        # A finger: Chromium's own touch events (through the DevTools protocol) become pointer events of
        # type touch on the canvas. Draw a 1.
        cdp = page.context.new_cdp_session(page)
        cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})
        box = canvas.bounding_box()
        scale = box["width"] / 280
        for kind, y in [("touchStart", 30)] + [("touchMove", y) for y in range(45, 260, 15)] + [("touchEnd", 0)]:
            points = [] if kind == "touchEnd" else [{"x": box["x"] + 140 * scale, "y": box["y"] + y * scale}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
        assert canvas.evaluate("c => c.dataset.pointer") == "touch"
        _wait_for_prediction(page, 1)
        page.screenshot(path=str(tmp_path / "digit_pad_touch.png"), full_page=False)


def test_digit_pad_falls_back_to_its_grid_without_anywidget(lab):
    tmp_path = lab[2]
    with _notebook(lab, FALLBACK, "draw a digit on the grid", timeout=120_000) as page:
        widgets = page.locator(".jupyter-widgets")
        widgets.get_by_text("because the drawing canvas needs anywidget").wait_for(timeout=10_000)
        assert page.locator("canvas.nnlib-pad-canvas").count() == 0
        cells = page.locator(".jupyter-widgets.widget-gridbox button")
        assert cells.count() == 14 * 14
        for i in range(3, 12):
            cells.nth(i * 14 + 7).click()
        widgets.get_by_text("prediction:").wait_for(timeout=30_000)
        # The upload: a white PNG has no ink (the pad says so), a dark 1 on white paper gives a prediction.
        sys.path.insert(0, str(ROOT))
        from nnlib.widgets import png_bytes

        blank, one = tmp_path / "blank.png", tmp_path / "one.png"
        blank.write_bytes(png_bytes(np.zeros((28, 28)), scale=4))
        digit = np.zeros((28, 28))
        digit[4:24, 13:16] = 1
        one.write_bytes(png_bytes(digit, scale=4))
        for path, expected in ((blank, "could not use the upload: the image is empty"), (one, "prediction:")):
            with page.expect_file_chooser() as chooser:
                page.locator(".jupyter-widgets.widget-upload").click()
            chooser.value.set_files(str(path))
            widgets.get_by_text(expected).wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "digit_pad_grid.png"), full_page=False)
