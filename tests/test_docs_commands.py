"""Every command the README and the docs/ pages show runs as shown, from the repository root.

A command is a line of a fenced block that starts with ``matcher``, ``.venv/bin/matcher`` or
``$ matcher`` (in a ``$`` block the other lines are the output the page shows for the command
above them). Each block runs at the root of a fresh copy of the checkout (the package, its rules
and example patients) in a temporary folder, so what a command writes (results.csv, report.html,
screening.db...) lands there, one command after the other as a reader would type them.
``matcher`` is run as ``python -m matcher`` with this interpreter, importing the copy.

* The exit code is the one the page implies: for ``matcher check`` the verdicts it shows (or, with
  no output shown, the verdict in the example file's name), else 0.
* The output a page shows appears in the real output, line by line and in order (a ``...`` line
  skips). Numbers and rule-file digests are masked: the count of example patients, timings and the
  rule files' sha256 change with every new example or rule edit, the words around them must not.
* A synopsis line (``matcher check PATIENT [--trial NCT_ID]...``) is not run: its sub-command must
  exist and every option it names must be in that sub-command's ``--help``.
* A synopsis of ``matcher bench`` is all docs/bench.md shows to run: the full bench takes hours
  (a cohort of a million patients); tests/test_bench.py runs it small.
* Other shell commands are listed in ``NOT_RUN`` with the reason they are not run here; a block equal to
  one that runs (the README's Spark run) is named in ``SAME_AS``, and a test holds the two equal.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from matcher.cli import EXIT_ELIGIBLE, EXIT_INELIGIBLE, EXIT_REVIEW, EXIT_UNDETERMINED

from .helpers import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: shell commands shown in the docs that this test does not run, and why
NOT_RUN = {
    "python3 -m venv .venv": "creates the environment this suite already runs in",
    ".venv/bin/pip install -e .": "installs packages from an index (minutes, network); the suite runs on the installed "
                                  "package",
    "bash .ci/run": "runs this whole suite, ruff, mypy and lint (it would run itself)",
}
#: whole blocks not run, named by their page and the start of their first line, and why
NOT_RUN_BLOCKS = {
    ("docs/spark.md", "pip install 'trial-matcher[spark]'"): "installs from an index; the suite has the spark extra",
    ("docs/spark.md", "python3.11 -m venv matcher-env"): "a cluster recipe: needs YARN, S3 and an index",
}
#: blocks not run because they equal a block that runs (a Spark job is slow to start): (page, start of the first
#: command) -> (page, start of the first command)
SAME_AS = {("README.md", "matcher synthetic 200 --out cohort.jsonl"):
           ("docs/spark.md", "matcher synthetic 200 --out cohort.jsonl")}

_COMMAND = re.compile(r"^(?:\$ )?(?:\.venv/bin/)?matcher(?= )(?P<args>(?: [a-z]+)(?=\s|$).*)$")
_SYNOPSIS = re.compile(r"\[|\b[A-Z][A-Z_]{2,}\b")
_DIGEST = re.compile(r"\b[0-9a-f]{12,64}\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_VERDICT_LINE = re.compile(r"^NCT\d{8}:?\s+(ELIGIBLE|INELIGIBLE|UNDETERMINED|REVIEW)\b")
_VERDICT_EXIT = {"eligible": EXIT_ELIGIBLE, "ineligible": EXIT_INELIGIBLE, "undetermined": EXIT_UNDETERMINED,
                 "review": EXIT_REVIEW}


@dataclass
class Step:
    line: int
    command: str  # as written, without "$ "
    shown: list[str] = field(default_factory=list)  # the output the page shows for it


@dataclass
class Block:
    page: str
    line: int
    steps: list[Step]
    synopsis: list[str]
    not_run: list[str]

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def _blocks() -> list[Block]:
    blocks = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
            language, body = match.group(1), match.group(2).splitlines()
            first = body[0] if body else ""
            if language not in ("", "sh", "console", "shell", "bash") or not first.strip():
                continue
            if language == "" and not _COMMAND.match(first):
                continue  # an output or text block
            start = text[:match.start()].count("\n") + 2
            block = Block(page.relative_to(ROOT).as_posix(), start - 1, [], [], [])
            dollar = first.startswith("$ ")
            for offset, raw in enumerate(body):
                line = raw.rstrip()
                if dollar and not line.startswith("$ "):
                    if block.steps:
                        block.steps[-1].shown.append(line)
                    continue
                if line.startswith(" ") and block.synopsis and not dollar:
                    block.synopsis[-1] += " " + line.strip()  # a synopsis written on several lines
                    continue
                for part in (p.strip() for p in line.removeprefix("$ ").split("&&")):
                    if not part:
                        continue
                    if not _COMMAND.match(part):
                        block.not_run.append(part)
                    elif _SYNOPSIS.search(part):
                        block.synopsis.append(part)
                    else:
                        block.steps.append(Step(start + offset, part))
            blocks.append(block)
    return blocks


BLOCKS = _blocks()


def _matcher_args(command: str) -> list[str]:
    """The arguments after ``matcher`` (no shell syntax: a redirection is handled by the caller)."""
    return shlex.split(command.split("matcher", 1)[1])


def _implied_exit(step: Step) -> int:
    args = _matcher_args(step.command.split(">", 1)[0])
    if args[0] != "check":
        return 0
    verdicts = [m.group(1).lower() for line in step.shown if (m := _VERDICT_LINE.match(line.strip()))]
    if not verdicts:
        # no output shown: the example file is named <trial>-<verdict>-<what>
        name_verdict = Path(args[1]).name.split("-")[1]
        assert name_verdict == "eligible", f"{step.command}: show its output so the exit code it gives is clear"
        verdicts = [name_verdict]
    if "eligible" in verdicts:
        return EXIT_ELIGIBLE
    if "review" in verdicts:
        return EXIT_REVIEW
    return EXIT_UNDETERMINED if "undetermined" in verdicts else EXIT_INELIGIBLE


def _masked(line: str) -> str:
    return _NUMBER.sub("#", _DIGEST.sub("<sha256>", line.rstrip()))


def _missing_shown_lines(shown: list[str], output: str) -> list[str]:
    """The shown lines not found, in order, in the output (``...`` skips any number of lines)."""
    actual = [_masked(line) for line in output.splitlines()]
    position, missing = 0, []
    for line in shown:
        if not line.strip() or line.strip() == "...":
            continue
        wanted = _masked(line)
        try:
            position = actual.index(wanted, position) + 1
        except ValueError:
            missing.append(line)
    return missing


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` through the shell (it may redirect), with ``matcher`` as this interpreter's ``-m matcher``."""
    shell_command = re.sub(r"^(?:\.venv/bin/)?matcher", f"{shlex.quote(sys.executable)} -m matcher", command)
    env = {key: value for key, value in os.environ.items() if key != "MATCHER_RULES"}
    env["PYTHONPATH"] = str(cwd)
    return subprocess.run(shell_command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=600, env=env,
                          check=False)


def test_the_readme_and_docs_show_commands_that_are_run() -> None:
    pages = {block.page for block in BLOCKS if block.steps}
    assert "README.md" in pages
    assert len([step for block in BLOCKS for step in block.steps]) >= 5


def test_a_block_not_run_because_it_repeats_one_equals_it() -> None:
    def block(page: str, start: str) -> Block:
        found = [b for b in BLOCKS if b.page == page and b.steps and b.steps[0].command.startswith(start)]
        assert len(found) == 1, f"{page}: no single block starting {start!r}"
        return found[0]

    for (page, start), (other_page, other_start) in SAME_AS.items():
        repeated, run = block(page, start), block(other_page, other_start)
        assert [s.command for s in repeated.steps] == [s.command for s in run.steps], f"{repeated.id} != {run.id}"


def test_every_shell_command_is_run_or_says_why_not() -> None:
    skipped = {id(block) for block in BLOCKS for (page, start) in NOT_RUN_BLOCKS
               if block.page == page and block.not_run and block.not_run[0].startswith(start)}
    assert len(skipped) == len(NOT_RUN_BLOCKS), "an entry of NOT_RUN_BLOCKS names no block: update it"
    unexplained = [f"{block.id}: {part}" for block in BLOCKS if id(block) not in skipped
                   for part in block.not_run if part not in NOT_RUN]
    assert not unexplained, "run these commands here or add them to NOT_RUN with the reason:\n" + "\n".join(unexplained)


def _repeats(block: Block) -> bool:
    return any(block.page == page and block.steps[0].command.startswith(start) for page, start in SAME_AS)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.steps and not _repeats(b)], ids=lambda b: b.id)
def test_docs_commands_run_as_shown(block: Block, tmp_path: Path) -> None:
    for folder in ("matcher", "rules", "patients"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for step in block.steps:
        done = _run(step.command, tmp_path)
        where = f"{block.page}:{step.line}: {step.command}"
        assert done.returncode == _implied_exit(step), f"{where}: exit {done.returncode}\n{done.stderr}"
        missing = _missing_shown_lines(step.shown, done.stdout)
        assert not missing, (f"{where}: the page shows lines this command does not print (update the page):\n"
                             + "\n".join(missing) + "\n--- it prints:\n" + done.stdout)


@pytest.mark.parametrize("synopsis", [s for b in BLOCKS for s in b.synopsis], ids=lambda s: " ".join(s.split()[:2]))
def test_synopsis_options_exist(synopsis: str) -> None:
    sub_command = _matcher_args(synopsis)[0]
    done = _run(f"matcher {sub_command} --help", ROOT)
    assert done.returncode == 0, done.stderr
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", synopsis))
    assert named, f"{synopsis}: a synopsis that names no option"
    unknown = sorted(option for option in named if option not in done.stdout)
    assert not unknown, f"{synopsis}: `matcher {sub_command} --help` has no {unknown}"
