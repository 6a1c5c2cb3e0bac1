"""Templates stay inside their folders and on their budget: a link out of the cycle's template
folder is refused at `check` and at `render`, a template's run-time error is one line naming
the template and line, and time, output and values are bounded."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from awards.certificates.html import html, render
from awards.certificates.sheet import Occasion, RenderError, Sheet, Templates
from awards.cli import main
from awards.rules.workflow import Ceremony

from support import WORKFLOW, small_survey

OCCASION = Occasion(
    "dga-2019", "รางวัลทดสอบ", "Test awards", 2019, 2562,
    Ceremony(datetime.date(2019, 11, 28), "นายทดสอบ ระบบ", "ผู้ทดสอบ"),
)  # fmt: skip
SHEET = Sheet(
    "DGA-2562-TST-0001", "K7QF-9XMD-2ABC-DEFG", "copy-free:T001", "กรมทดสอบ", "Test Dept",
    "copy-free", "รางวัลทดสอบ", "Test award",
)  # fmt: skip


def run(*args: str, db: str | None = None) -> tuple[int, str]:
    prefix = ["--db", db] if db else []
    result = CliRunner(env={"COLUMNS": "240"}).invoke(
        main, [*prefix, "--actor", "tester", *args], catch_exceptions=False
    )
    return result.exit_code, result.output


def own_workflow(folder: Path, **replace: str) -> Path:
    """The 2019 workflow with its own templates folder `own` beside it."""
    (folder / "own").mkdir(exist_ok=True)
    text = WORKFLOW.read_text(encoding="utf-8").replace(
        'serial_prefix = "DGA"', 'serial_prefix = "DGA"\ntemplates = "own"'
    )
    for old, new in replace.items():
        text = text.replace(old, new)
    path = folder / "own-2019.toml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, s in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in s)


def secret(folder: Path) -> Path:
    """A file outside every template folder, as /etc/passwd is."""
    path = folder / "secret.txt"
    path.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    return path


INCLUDING = (
    '{% extends "_certificate.html" %}\n{% block lead %}{% include "leak.html" %}{% endblock %}\n'
)


@pytest.fixture
def opened(tmp_path: Path) -> str:
    """A small cycle with its own (empty) templates folder, run to its awards."""
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    assert run("init", str(own_workflow(tmp_path)), db=url)[0] == 0
    assert run("import", str(small_survey(tmp_path / "survey.csv")), db=url)[0] == 0
    assert run("advance", db=url)[0] == 0
    return url


def test_check_refuses_a_link_out_of_the_templates_folder(tmp_path: Path):
    path = own_workflow(tmp_path)
    (tmp_path / "own" / "policy-support.html").write_text(INCLUDING, encoding="utf-8")
    (tmp_path / "own" / "leak.html").symlink_to(secret(tmp_path))

    assert run("check", str(path)) == (
        1,
        f"Error: {path}:{line_of(path, 'templates = ')}: ceremony.templates: leak.html in the "
        f"templates folder is a link to {tmp_path / 'secret.txt'}, outside the template "
        "folders; copy the file in instead (value: 'own')\n",
    )


def test_init_refuses_a_template_outside_the_folders(tmp_path: Path):
    path = own_workflow(tmp_path, **{'template = "policy-support"': 'template = "../outside"'})
    (tmp_path / "outside.html").write_text(INCLUDING, encoding="utf-8")

    code, out = run("init", str(path), db=f"sqlite:///{tmp_path / 'awards.db'}")

    assert (code, out) == (
        1,
        f"Error: {path}:{line_of(path, '../outside')}: awards[2].template: template "
        f"'../outside' is {tmp_path / 'outside.html'}, outside the template folders; name a "
        "template inside them (value: '../outside')\n",
    )
    assert not (tmp_path / "awards.db").exists()


def test_render_refuses_a_link_added_after_the_cycle_was_opened(opened: str, tmp_path: Path):
    (tmp_path / "own" / "policy-support.html").write_text(INCLUDING, encoding="utf-8")
    (tmp_path / "own" / "leak.html").symlink_to(secret(tmp_path))

    code, out = run("render", "--out", str(tmp_path / "out"), db=opened)

    assert (code, out) == (
        1,
        f"Error: {tmp_path / 'own' / 'leak.html'} is a link to {tmp_path / 'secret.txt'}, "
        "outside the template folders; copy the file into the folder instead\n",
    )
    assert not (tmp_path / "out").exists()


def test_loader_refuses_a_link_out_even_unchecked(tmp_path: Path):
    (tmp_path / "copy-free.html").write_text(INCLUDING, encoding="utf-8")
    (tmp_path / "leak.html").symlink_to(secret(tmp_path.parent))
    templates = Templates((tmp_path.resolve(), Templates.for_cycle().folders[0]))

    with pytest.raises(RenderError) as raised:
        html(templates, "copy-free", OCCASION, [SHEET])

    assert str(raised.value) == (
        f"template copy-free.html, line 2: leak.html is a link to {tmp_path.parent / 'secret.txt'}, "
        "outside the template folders; copy the file into the folder instead"
    )


def test_a_link_inside_the_folders_is_followed(tmp_path: Path):
    (tmp_path / "copy-free.html").write_text(INCLUDING, encoding="utf-8")
    (tmp_path / "lead.html").write_text("<p>ขอมอบ</p>", encoding="utf-8")
    (tmp_path / "leak.html").symlink_to(tmp_path / "lead.html")

    page = html(Templates.for_cycle(tmp_path), "copy-free", OCCASION, [SHEET])

    assert "<p>ขอมอบ</p>" in page


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1/0", "division by zero"),
        ("range(10**9)", "the number 1000000000 is past the 1,000,000 a template may use"),
        ("range(200000)", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."),
        ('"x" * 10**7', "a value of 10,000,000 items, past the 1,000,000 allowed"),
        ("2 ** 100000000", "2 ** 100000000 is past the integers a template may compute"),
        ('"x"|center(10**9)', "the number 1000000000 is past the 1,000,000 a template may use"),
        ('"{:>1000000000}".format(1)', "the width or precision 1000000000 is past what a template may use"),
        ('"%1000000000s" % 1', "the width or precision 1000000000 is past what a template may use"),
        ("cycle.__class__", "access to attribute '__class__' of 'dict' object is unsafe."),
    ],
    ids=["zero", "range-arg", "range", "repeat", "power", "center", "format", "percent", "dunder"],
)  # fmt: skip
def test_render_runtime_error_is_one_line_naming_template_and_line(
    opened: str, tmp_path: Path, expression: str, message: str
):
    body = "{% block lead %}\n<p>\n{{ " + expression + " }}\n</p>\n{% endblock %}\n"
    (tmp_path / "own" / "policy-support.html").write_text(
        '{% extends "_certificate.html" %}\n' + body, encoding="utf-8"
    )

    assert run("render", "--out", str(tmp_path / "out"), db=opened) == (
        1,
        f"Error: template policy-support.html, line 4: {message}\n",
    )


def test_doubling_a_string_by_concatenation_stops_at_the_value_budget(tmp_path: Path):
    body = (
        '{% set ns = namespace(s="xxxxxxxxxx") %}\n'
        "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}\n"
    )
    (tmp_path / "copy-free.html").write_text(body, encoding="utf-8")

    with pytest.raises(RenderError) as raised:
        html(Templates.for_cycle(tmp_path), "copy-free", OCCASION, [SHEET])

    assert str(raised.value) == (
        "template copy-free.html, line 2: a value of 1,310,720 items, past the 1,000,000 allowed"
    )


def test_render_output_past_its_size_budget_is_one_line(opened: str, tmp_path: Path):
    body = "{% for i in range(100) %}{{ 'x' * 100000 }}{% endfor %}\n"
    (tmp_path / "own" / "policy-support.html").write_text(body, encoding="utf-8")

    assert run("render", "--out", str(tmp_path / "out"), db=opened) == (
        1,
        "Error: template policy-support.html: the HTML passed 1,000,000 characters, the budget "
        "for 1 sheet(s); a template writes a page, not a book\n",
    )


# A loop that calls nothing: only the timer can stop it (10**10 turns).
ENDLESS = "{% set r = range(100000) %}{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}"


def test_render_past_its_time_budget_is_stopped(tmp_path: Path):
    (tmp_path / "slow.html").write_text(ENDLESS, encoding="utf-8")

    with pytest.raises(RenderError) as raised:
        render(Templates.for_cycle(tmp_path), "slow.html", 1, seconds=0.5)

    assert str(raised.value) == (
        "template slow.html: rendering passed its budget of 0.5 s for 1 sheet(s); "
        "simplify the template"
    )


def test_render_in_a_thread_is_stopped_at_its_next_call(tmp_path: Path):
    # No timer outside the main thread: the sandbox checks the clock at each call.
    body = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    (tmp_path / "slow.html").write_text(body, encoding="utf-8")
    raised: list[BaseException] = []

    def work() -> None:
        try:
            render(Templates.for_cycle(tmp_path), "slow.html", 1, seconds=0.3)
        except RenderError as exc:
            raised.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)

    assert [str(e) for e in raised] == [
        "template slow.html: rendering passed its budget of 0.3 s for 1 sheet(s); "
        "simplify the template"
    ]
