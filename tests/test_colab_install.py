"""The setup cell's other cases, run for real, in interpreters where nnlib does not import.

- (c) Colab: a fresh virtual environment without nnlib, a stub `google.colab`, and NNLIB_INSTALL_FROM
  pointing at a `git+file://` clone of the working tree (uncommitted changes included) tagged v<version>;
  notebook 00's first cells run in a Jupyter kernel of that environment, and nnlib must come from the
  environment's site-packages, not from the clone.
- (b) a clone without an install, Jupyter started in notebooks/: the cell puts the root on sys.path.
- (d) Kaggle with the internet off: the install fails and the cell says what to do.

The third-party packages (numpy, pandas, matplotlib, ipykernel) come from this interpreter, through a
folder of links to its site-packages without nnlib, as they come preinstalled on Colab; so only the
build of nnlib itself needs the package index. Under CI nothing here is skipped: a missing piece fails.
"""

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("course_url", ROOT / "notebooks" / "course_url.py")
course_url = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course_url)
VERSION = course_url.read_version(ROOT)
CELL = course_url.setup_cell(course_url.read_url(ROOT), VERSION)


def _missing(what):
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must run this test)")
    pytest.skip(what)


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _clean_env(**extra):
    """This process's environment without anything that would put nnlib on a new interpreter's path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "NNLIB_INSTALL_FROM")
    }
    return {**env, "PIP_NO_INPUT": "1", **extra}


@pytest.fixture(scope="module")
def deps_without_nnlib(tmp_path_factory):
    """A folder of links to this interpreter's site-packages, minus nnlib (and any editable install of it)."""
    folder = tmp_path_factory.mktemp("deps")
    for sp in dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]]):
        for entry in Path(sp).glob("*") if Path(sp).is_dir() else []:
            name = entry.name.lower()
            if (
                "nnlib" in name
                or name.startswith("__editable__")
                or name.endswith(".pth")
                or name == "google"
                or (folder / entry.name).exists()
            ):
                continue
            (folder / entry.name).symlink_to(entry)
    for needed in ("numpy", "pandas", "matplotlib", "ipykernel"):
        if not (folder / needed).exists():
            _missing(f"{needed} is not installed in this environment")
    return folder


def test_case_b_a_clone_without_install_finds_nnlib(deps_without_nnlib):
    """Jupyter started in notebooks/ of a clone, nnlib not installed: the cell puts the root on sys.path."""
    code = CELL + "\nimport nnlib\nprint(nnlib.__file__)"
    # -S: no site-packages at all (so no installed nnlib); the dependencies come from PYTHONPATH.
    run = _run(
        [sys.executable, "-S", "-c", code],
        cwd=ROOT / "notebooks",
        timeout=300,
        env=_clean_env(PYTHONPATH=str(deps_without_nnlib)),
    )
    assert Path(run.stdout.strip()) == ROOT / "nnlib" / "__init__.py"
    assert run.stderr == ""
    bare = subprocess.run(
        [sys.executable, "-S", "-c", "import nnlib"],
        cwd=ROOT / "notebooks",
        capture_output=True,
        env=_clean_env(PYTHONPATH=str(deps_without_nnlib)),
    )
    assert bare.returncode != 0, "nnlib imported without the setup cell: the test proves nothing"


@pytest.mark.parametrize("kaggle", [True, False], ids=["kaggle", "elsewhere"])
def test_case_d_a_failed_install_says_what_to_do(tmp_path, kaggle):
    """Kaggle with the internet off (here: an install source that cannot be installed)."""
    env = _clean_env(NNLIB_INSTALL_FROM=str(tmp_path / "no-such" / f"nnlib_course-{VERSION}-py3-none-any.whl"))
    env.pop("KAGGLE_KERNEL_RUN_TYPE", None)
    if kaggle:
        env["KAGGLE_KERNEL_RUN_TYPE"] = "Interactive"
    # -I -S: no site-packages, no PYTHONPATH, no cwd on the path, so nnlib is nowhere to be found.
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", CELL], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert "CalledProcessError" not in out
    assert "RuntimeError: Could not install nnlib from " in out
    assert "Installing nnlib from" in run.stdout
    if kaggle:
        assert "switch Internet on" in out and "/kaggle/input" in out and "MNIST" in out
    else:
        assert "NNLIB_INSTALL_FROM" in out and "Kaggle" not in out.split("RuntimeError")[-1]


def _clone_of_working_tree(dest: Path, tag: str) -> Path:
    """A git repository holding the working tree as it is now (tracked and untracked files, not ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0:
        for rel in filter(None, listed.stdout.split("\0")):
            if (ROOT / rel).is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, dest / rel)
    else:  # not a git checkout (an unpacked archive): copy it without what .gitignore leaves out
        shutil.copytree(
            ROOT,
            dest,
            ignore=shutil.ignore_patterns(
                ".git", ".venv*", "venv", "__pycache__", "*.egg-info", "build", ".pytest_cache", "data", "*-ubyte*"
            ),
        )
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"]
    _run(git + ["init", "-q"], cwd=dest)
    _run(git + ["add", "-A"], cwd=dest)
    _run(git + ["commit", "-q", "-m", "working tree"], cwd=dest)
    _run(git + ["tag", tag], cwd=dest)
    return dest


def _built(clone: Path, out: Path) -> dict:
    """The sdist and the wheel of nnlib-course built from ``clone`` (``python -m build``), checked by twine."""
    for tool in ("build", "twine"):
        if importlib.util.find_spec(tool) is None:
            _missing(f"{tool} is not installed (pip install -e '.[release]')")
    _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(clone)],
        timeout=600,
        env=_clean_env(),
    )
    built = {"wheel": sorted(out.glob("nnlib_course-*.whl")), "sdist": sorted(out.glob("nnlib_course-*.tar.gz"))}
    assert [len(v) for v in built.values()] == [1, 1], (
        f"expected one wheel and one sdist named nnlib_course-* (PEP 625, as PyPI requires), got {sorted(out.iterdir())}"
    )
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, out.iterdir())], timeout=300)
    return {kind: paths[0] for kind, paths in built.items()}


@pytest.mark.slow
@pytest.mark.parametrize("source", ["git", "wheel"])
def test_case_c_colab_installs_the_release_into_a_fresh_environment(
    tmp_path, deps_without_nnlib, mnist, monkeypatch, source
):
    """The setup cell installs from a git tag (as the badges do) or from the release's wheel (NNLIB_INSTALL_FROM
    naming it), built with its sdist from the working tree and checked by twine, as the release workflow does."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if shutil.which("git") is None:
        _missing("git is not installed")
    tag = f"v{VERSION}"
    clone = _clone_of_working_tree(tmp_path / "clone", tag)
    if source == "wheel":
        dist = _built(clone, tmp_path / "dist")
        assert dist["wheel"].name == f"nnlib_course-{VERSION}-py3-none-any.whl"
        install_from = str(dist["wheel"])
    else:
        install_from = f"git+file://{clone.as_posix()}@{tag}"

    # A fresh virtual environment (with pip, without nnlib), its packages as on Colab, and a stub google.colab.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=_clean_env()
        ).stdout.strip()
    )
    (purelib / "colab_like_preinstalled.pth").write_text(str(deps_without_nnlib) + "\n")
    (purelib / "google" / "colab").mkdir(parents=True)
    (purelib / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab\'s own package."""\n')
    probe = subprocess.run([str(python), "-c", "import nnlib"], cwd=tmp_path, capture_output=True, env=_clean_env())
    assert probe.returncode != 0, "the fresh environment already has nnlib"

    # A kernel of that environment, found through a private JUPYTER_PATH.
    kernels = tmp_path / "jupyter" / "kernels" / "colab-sim"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Colab stand-in",
                "language": "python",
            }
        )
    )
    for key, value in _clean_env(JUPYTER_PATH=str(tmp_path / "jupyter"), NNLIB_INSTALL_FROM=install_from).items():
        monkeypatch.setenv(key, value)
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"):
        monkeypatch.delenv(key, raising=False)

    # Notebook 00's setup cell, its imports and its first use of load_mnist, then a look at where nnlib came from.
    stored = nbformat.read(ROOT / "notebooks" / "00_data.ipynb", as_version=4)
    code = [c for c in stored.cells if c.cell_type == "code"][:3]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c.source) for c in code]
        + [
            nbformat.v4.new_code_cell(
                "import importlib.metadata, json, sys, google.colab\n"
                "print(json.dumps({'file': nnlib.__file__, 'version': nnlib.__version__,\n"
                "    'dist': importlib.metadata.version('nnlib-course'), 'prefix': sys.prefix}))"
            )
        ]
    )
    work = tmp_path / "content"  # Colab's working folder: no clone of the course in sight
    work.mkdir()
    nbclient.NotebookClient(
        nb, kernel_name="colab-sim", timeout=600, startup_timeout=120, resources={"metadata": {"path": str(work)}}
    ).execute()

    setup_out = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert f"Installing nnlib from {install_from}" in setup_out
    assert not [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    text = lambda cell: "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert text(nb.cells[2]) == text(code[2]), "load_mnist in the fresh environment differs from the stored run"
    found = json.loads(text(nb.cells[3]))
    assert found["version"] == found["dist"] == VERSION
    assert Path(found["prefix"]).resolve() == venv.resolve()
    installed = Path(found["file"]).resolve()
    assert installed == (purelib / "nnlib" / "__init__.py").resolve(), "nnlib must come from the venv"
    assert ROOT not in installed.parents and clone not in installed.parents
    for data in ("pad.js", "checks/__init__.py"):  # package data and the subpackage travel with it
        assert (installed.parent / data).is_file(), f"{data} is missing from the installed nnlib"
