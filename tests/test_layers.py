"""The layers, as the package's docstrings state them: the pure rules and the log load no
database, CLI, terminal or PDF library; `awards --help` loads none of the library; the CLI is
a skin that nothing imports; each pure package imports only from the layers it names."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import awards

PACKAGE = Path(awards.__file__).parent
# What a pure module must not load: the database, the command line, the terminal, the PDFs.
HEAVY = ("sqlalchemy", "sqlmodel", "click", "rich", "weasyprint")
# What each pure package may import from the rest of awards (its __init__ docstring).
ALLOWED = {
    # ... and the event catalogue's list of its fields, which workflow names may not take.
    "awards.rules": ("awards.rules", "awards.errors", "awards.paths"),
    "awards.log": ("awards.log", "awards.rules", "awards.errors", "awards.paths"),
}

LOADED = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.argv[2:] if m in sys.modules)))
"""

HELP = """
import contextlib, io, json, sys
from awards.cli import main
every = [[]] + [[name] for name in main.commands] + [
    [name, sub] for name, group in main.commands.items() for sub in getattr(group, "commands", {})
]
for args in every:
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main([*args, "--help"], prog_name="awards")
    except SystemExit as done:
        assert done.code == 0, (args, done.code)
print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))
"""


def modules(package: str) -> list[str]:
    """The package and every module under it, by name."""
    folder = PACKAGE / package.removeprefix("awards.")
    found = pkgutil.walk_packages([str(folder)], prefix=f"{package}.")
    return [package, *sorted(m.name for m in found)]


def loaded(code: str, *args: str) -> list[str]:
    """Run `code` in a fresh interpreter; what it prints, as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, module: str | None = None) -> list[str]:
    """Every module `path` (the module `module`, by default the one at that place in the
    package) imports anywhere, inline imports too, by absolute name; for `from x import y`
    both x and x.y, as y may be a module."""
    module = module or module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return names


def test_imports_are_read_inline_relative_and_absolute(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "import awards.store\nfrom . import sibling\nfrom ..log import chain\n"
        "def f():\n    from awards import cli\n",
        encoding="utf-8",
    )
    assert imports(source, "awards.rules.mod") == [
        "awards.store", "awards.rules", "awards.rules.sibling", "awards.log",
        "awards.log.chain", "awards", "awards.cli",
    ]  # fmt: skip


@pytest.mark.parametrize("module", [*modules("awards.rules"), *modules("awards.log")])
def test_pure_module_loads_no_database_cli_terminal_or_pdf_library(module):
    assert loaded(LOADED, module, *HEAVY) == []


def test_help_does_not_import_sqlalchemy_or_weasyprint():
    # `awards --help`, and the help of every command, is answered by click alone.
    library = [m for m in HEAVY if m != "click"] + ["transitions"]
    assert loaded(HELP, *library) == []


def test_cli_is_imported_by_no_module_of_the_package():
    importers = [
        str(path.relative_to(PACKAGE.parent))
        for path in source_files()
        if path.name != "cli.py"
        and any(name == "awards.cli" or name.startswith("awards.cli.") for name in imports(path))
    ]
    assert importers == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_pure_package_imports_only_the_layers_it_names(package):
    allowed = ALLOWED[package]
    folder = PACKAGE / package.removeprefix("awards.")
    outside = [
        (str(path.relative_to(PACKAGE.parent)), name)
        for path in sorted(folder.rglob("*.py"))
        for name in imports(path)
        if name.startswith("awards.")
        and not any(name == a or name.startswith(f"{a}.") for a in allowed)
    ]
    assert outside == []
