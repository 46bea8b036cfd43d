"""Every Python example in the README and in docs/ runs as written, from the repository root."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from .helpers import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(page.relative_to(ROOT).as_posix(), code) for page in PAGES
          for code in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)]


def test_the_readme_has_a_python_example() -> None:
    assert any(page == "README.md" for page, _ in BLOCKS)


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    unlinked = [page.name for page in PAGES[1:] if f"](docs/{page.name})" not in readme]
    assert not unlinked


@pytest.mark.parametrize(("page", "code"), BLOCKS, ids=[f"{page}-{n}" for n, (page, _) in enumerate(BLOCKS, 1)])
def test_readme_example_runs(page: str, code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the example printed nothing"
    assert "skipped:" not in done.stdout
