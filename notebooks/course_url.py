"""Write the course's public URL and release everywhere they are needed, from the one place each is kept.

    python notebooks/course_url.py                                   # re-apply (after a version bump, a merge)
    python notebooks/course_url.py --url https://github.com/YOU/REPO # re-point the course (a fork, a teacher)
    python notebooks/course_url.py --check                           # change nothing; list what differs, exit 1

The URL is kept in pyproject.toml (`[project.urls] Repository`), the version in nnlib/__init__.py
(`__version__`); the release is the git tag `v` + version. From them this script writes

- the first code cell of every notebook (`notebooks/NN_*.ipynb`): one canonical setup cell, stored without
  output; nothing else in the notebooks changes (run it twice: the second run changes nothing);
- the README's badges: "Open in Colab" and "Open in Kaggle" in the notebook table and in the table of
  student copies (`notebooks/student/`; a row without them gets them), the Binder badge, and
  `git+URL@vX.Y.Z` install lines in README.md.

Badges point at the release tag, not at main, so that the notebook a learner opens is the one whose first
cell installs the matching nnlib. tests/test_setup_cell.py fails when anything here is out of step.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT_URL = re.compile(r'^(Repository = ")([^"]*)(")$', re.M)
VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.M)
GITHUB = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)")
PLACEHOLDER_OWNER = "OWNER"  # the owner in the URL until the course is published

SETUP_CELL = """\
# Setup (run first). In a clone of the course it only finds nnlib; on Colab, Kaggle or anywhere else it
# installs nnlib (on PyPI: nnlib-course) at the release these notebooks were run with.
import importlib.util, os, subprocess, sys
from pathlib import Path
COURSE_REPO = "{url}"  {url_comment}
RELEASE = "{tag}"
if importlib.util.find_spec("nnlib") is None:
    clones = [d for d in (Path.cwd(), *Path.cwd().parents[:2]) if (d / "nnlib" / "__init__.py").is_file()]
    clones += [f.parent.parent for f in Path("/kaggle/input").glob("**/nnlib/__init__.py")]
    if clones:  # a clone of the repository (on Kaggle: attached as a data set); use it as it is
        sys.path.insert(0, str(clones[0]))
    else:  # NNLIB_INSTALL_FROM may name another source: a fork's git+https://...@tag, a wheel, a git+file:// URL
        source = os.environ.get("NNLIB_INSTALL_FROM") or f"git+{{COURSE_REPO}}@{{RELEASE}}"
        print(f"Installing nnlib from {{source}} ...")
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], capture_output=True,
                             text=True, env={{**os.environ, "GIT_TERMINAL_PROMPT": "0"}})
        if pip.returncode != 0:
            print(pip.stderr[-2000:], file=sys.stderr)
            if "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
                advice = ("On Kaggle the internet is off by default: in the notebook's side panel open Settings, "
                          "switch Internet on (it needs a phone-verified account) and run this cell again. Offline, "
                          "add the course's repository as a data set instead (Add Input): this cell finds nnlib in "
                          "it. Add an MNIST data set the same way (search 'MNIST'): nnlib finds it in /kaggle/input.")
            else:
                advice = ("Check the internet connection, and that COURSE_REPO above is the course's real address "
                          "and has the tag RELEASE. To install from elsewhere, set NNLIB_INSTALL_FROM and run this "
                          "cell again, e.g. os.environ['NNLIB_INSTALL_FROM'] = 'git+https://github.com/YOU/FORK@"
                          + RELEASE + "' (or a wheel's path); or start Jupyter in a clone of the course.")
            raise RuntimeError(f"Could not install nnlib from {{source}}.\\n{{advice}}")
        importlib.invalidate_caches()
# MNIST: nnlib looks in $NNLIB_DATA_DIR, ./data and /kaggle/input, else downloads it once to ~/.cache/nnlib."""

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
KAGGLE_BADGE = "https://kaggle.com/static/images/open-in-kaggle.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
# A row of one of the README's notebook tables (the course's, or the student copies' in notebooks/student/),
# with or without its badge column.
TABLE_ROW = re.compile(
    r"^\| \[(?P<stem>\d\d_\w+)\]\(notebooks/(?P<dir>student/)?(?P=stem)\.ipynb\) \| "
    r"(?:\[!\[Open in Colab\][^|]*\| )?",
    re.M,
)
BINDER = re.compile(r"\[!\[Binder\]\(" + re.escape(BINDER_BADGE) + r"\)\]\(https://mybinder\.org/v2/gh/[^)]*\)")
GIT_INSTALL = re.compile(r"git\+https://github\.com/[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+\w*")


def read_url(root: Path = ROOT) -> str:
    found = PYPROJECT_URL.findall((root / "pyproject.toml").read_text(encoding="utf-8"))
    if len(found) != 1:
        raise SystemExit('pyproject.toml must hold exactly one line `Repository = "https://github.com/..."`')
    return found[0][1]


def read_version(root: Path = ROOT) -> str:
    return VERSION.search((root / "nnlib" / "__init__.py").read_text(encoding="utf-8")).group(1)


def release_tag(version: str) -> str:
    return f"v{version}"


def _owner_repo(url: str) -> tuple[str, str]:
    m = GITHUB.fullmatch(url)
    if m is None:
        raise SystemExit(
            f"{url!r} is not a GitHub URL https://github.com/OWNER/REPO (Colab opens notebooks from GitHub only)"
        )
    return m["owner"], m["repo"]


def is_placeholder(url: str) -> bool:
    return _owner_repo(url)[0] == PLACEHOLDER_OWNER


def setup_cell(url: str, version: str) -> str:
    """The canonical first code cell of every notebook."""
    comment = (
        '# "OWNER": a placeholder, not published yet' if is_placeholder(url) else "# written by notebooks/course_url.py"
    )
    return SETUP_CELL.format(url=url, url_comment=comment, tag=release_tag(version))


def colab_url(url: str, version: str, notebook: str) -> str:
    owner, repo = _owner_repo(url)
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/{release_tag(version)}/notebooks/{notebook}"


def kaggle_url(url: str, version: str, notebook: str) -> str:
    return f"https://kaggle.com/kernels/welcome?src={url}/blob/{release_tag(version)}/notebooks/{notebook}"


def binder_url(url: str, version: str) -> str:
    owner, repo = _owner_repo(url)
    return f"https://mybinder.org/v2/gh/{owner}/{repo}/{release_tag(version)}?labpath=notebooks%2F00_data.ipynb"


def badges(url: str, version: str, notebook: str) -> str:
    """The badge column of the README's notebook table for one notebook."""
    return (
        f"[![Open in Colab]({COLAB_BADGE})]({colab_url(url, version, notebook)}) "
        f"[![Open in Kaggle]({KAGGLE_BADGE})]({kaggle_url(url, version, notebook)})"
    )


def binder_badge(url: str, version: str) -> str:
    return f"[![Binder]({BINDER_BADGE})]({binder_url(url, version)})"


def updated_readme(text: str, url: str, version: str) -> str:
    def row(m):
        notebook = (m["dir"] or "") + m["stem"] + ".ipynb"
        return f"| [{m['stem']}](notebooks/{notebook}) | {badges(url, version, notebook)} | "

    text = TABLE_ROW.sub(row, text)
    text = BINDER.sub(lambda m: binder_badge(url, version), text)
    return GIT_INSTALL.sub(lambda m: f"git+{url}@{release_tag(version)}", text)


def updated_citation(text: str, url: str, version: str) -> str:
    """CITATION.cff with its ``version`` and ``repository-code`` lines set to the course's."""
    text = re.sub(r"^version: .*$", f'version: "{version}"', text, flags=re.M)
    return re.sub(r"^repository-code: .*$", f'repository-code: "{url}"', text, flags=re.M)


def _source_lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)  # as nbformat stores a cell's source


def updated_notebook(text: str, cell: str) -> str:
    """The notebook (JSON text as nbformat writes it) with `cell` as its first code cell and no output there."""
    nb = json.loads(text)
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    first["source"] = _source_lines(cell)
    first["outputs"] = []
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def readmes(root: Path = ROOT) -> list[Path]:
    return [p for p in (root / "README.md",) if p.exists()]


def planned(root: Path = ROOT) -> dict[Path, str]:
    """Every file whose text differs from what the URL and version call for, with its new text."""
    url, version = read_url(root), read_version(root)
    cell = setup_cell(url, version)
    new = {}
    for path in notebooks(root):
        new[path] = updated_notebook(path.read_text(encoding="utf-8"), cell)
    for path in readmes(root):
        new[path] = updated_readme(path.read_text(encoding="utf-8"), url, version)
    citation = root / "CITATION.cff"
    if citation.exists():
        new[citation] = updated_citation(citation.read_text(encoding="utf-8"), url, version)
    return {p: t for p, t in new.items() if t != p.read_text(encoding="utf-8")}


def set_url(new_url: str, root: Path = ROOT) -> None:
    """Write `new_url` into pyproject.toml, and replace the old URL wherever the README names it."""
    new_url = new_url.rstrip("/").removesuffix(".git")
    _owner_repo(new_url)
    old_url = read_url(root)
    path = root / "pyproject.toml"
    path.write_text(
        PYPROJECT_URL.sub(lambda m: m[1] + new_url + m[3], path.read_text(encoding="utf-8")), encoding="utf-8"
    )
    for readme in readmes(root):
        readme.write_text(readme.read_text(encoding="utf-8").replace(old_url, new_url), encoding="utf-8")


def main(argv=None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="the repository's new public URL, https://github.com/OWNER/REPO")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of step")
    args = parser.parse_args(argv)
    if args.url and args.check:
        parser.error("--url and --check exclude each other")
    if args.url:
        set_url(args.url, root)
    changes = planned(root)
    url, version = read_url(root), read_version(root)
    for path, text in changes.items():
        print(f"{'differs' if args.check else 'updated'}: {path.relative_to(root)}")
        if not args.check:
            path.write_text(text, encoding="utf-8")
    print(
        f"{url} @ {release_tag(version)}: {len(changes)} file(s) {'out of step' if args.check else 'changed'}"
        + (" (the URL is a placeholder: the course is not published yet)" if is_placeholder(url) else "")
    )
    return 1 if args.check and changes else 0


if __name__ == "__main__":
    sys.exit(main())
