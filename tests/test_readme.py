"""The README's Python example runs as written (doctest), in an empty folder."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from support import ROOT


def python_examples() -> list[str]:
    """The ```python blocks of the README's '## Python' section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_readme_has_a_python_example():
    assert len(python_examples()) == 1


@pytest.mark.parametrize("number", range(len(python_examples())))
def test_readme_python_example_runs(number: int, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWARDS_DATABASE_URL", raising=False)
    example = doctest.DocTestParser().get_doctest(
        python_examples()[number], {}, f"README.md python example {number + 1}", "README.md", 0
    )
    out: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(example, out=out.append)
    assert "".join(out) == ""
    assert (result.failed, result.attempted > 10) == (0, True)
