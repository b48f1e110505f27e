"""End to end: JupyterLab on 127.0.0.1 runs notebook 10 in headless Chromium, and its widgets render.

Needs Debian's chromium (/usr/bin/chromium) and playwright's Python package, which `.ci/run` installs;
playwright's own browser download is never used. Skipped, saying why, when either is missing.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "10_model_api_and_evaluation.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ERRORS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"   # tracebacks and warnings

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
    port, token = _free_port(), "nnlib-browser-test"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=True", "--allow-root",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "wb"))
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


def test_notebook_09_widgets_render_in_jupyterlab(lab):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    base, token, tmp_path = lab
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=120_000)
            page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=120_000)
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # The test-set browser: its summary, an image and a prediction label.
            widgets = page.locator(".jupyter-widgets")
            # Wait for the summary, or stop at the first traceback (no data, say) instead of timing out.
            page.wait_for_function(
                "() => [...document.querySelectorAll(" + json.dumps(ERRORS) + ")].some(e => e.textContent.includes("
                "'Traceback')) || [...document.querySelectorAll('.jupyter-widgets')].some("
                "w => w.textContent.includes('mistakes in 10000 images'))", timeout=300_000)
            tracebacks = [t for t in page.locator(ERRORS).all_text_contents() if "Traceback" in t]
            if tracebacks:
                t = tracebacks[0]
                pytest.fail(f"a cell of {NOTEBOOK} raised in JupyterLab:\n"
                            + (t if len(t) < 3000 else f"{t[:600]}\n...\n{t[-2000:]}"))
            widgets.get_by_text("mistakes in 10000 images").wait_for(timeout=10_000)
            widgets.get_by_text("predicted").first.wait_for(timeout=60_000)
            widgets.get_by_text("draw a digit on the grid").wait_for(timeout=120_000)
            images = page.locator(".jupyter-widgets img")
            assert images.count() >= 2, "the widgets' images did not render"
            assert images.first.evaluate("img => img.naturalWidth") > 0
            # Clicking "next mistake" moves the browser to a wrong prediction.
            page.get_by_role("button", name="next mistake").click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jupyter-widgets span')].some("
                "s => (s.getAttribute('style') || '').includes('crimson') && s.textContent.includes('predicted'))",
                timeout=30_000)
            page.screenshot(path=str(tmp_path / "notebook10.png"), full_page=False)
            # Drawing on the pad: a few clicks on its grid of toggle cells give a prediction.
            cells = page.locator(".jupyter-widgets.widget-gridbox button")
            assert cells.count() == 14 * 14
            for i in range(3, 12):
                cells.nth(i * 14 + 7).click()
            widgets.get_by_text("prediction:").wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "digit_pad.png"), full_page=False)
        finally:
            browser.close()
