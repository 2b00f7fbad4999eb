"""The code blocks of the documentation: README.md and every docs/*.md, found as they are.

A fenced block's info string says, visibly in the Markdown, what the test suite does with it
(``tests/test_docs.py``):

- ``python`` — runs;
- ``pycon`` — an interactive session (``>>>``): each statement runs and what it prints or
  returns is compared (Python's doctest);
- ``console`` — each ``$ command`` runs and its output is compared;
- ``text`` — shown, never run: output samples, synopses, trees;
- any language with the word ``no-run`` in the info string (``sh no-run``, ``python no-run``)
  — not run, because it cannot finish or needs what a test does not have (installing a
  package, serving until Ctrl-C, an hour of benchmarks); it is still checked (Python
  compiles, a ``jobquery`` command line parses, ``python -m MODULE`` names a module);
- anything else — an unlabelled fence, ``bash`` without ``no-run``, an indented code block —
  is a mistake the suite reports.

Markdown is parsed with markdown-it-py (CommonMark, as GitHub renders it), so what counts as a
block here is what a reader sees as one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]

#: The word in an info string that marks a block as deliberately not run.
NO_RUN = "no-run"
RUNNABLE = ("python", "pycon", "console")
SHELLS = ("sh", "bash", "shell", "console")


@dataclass(frozen=True)
class Block:
    """One code block of a Markdown file."""

    document: str  # the file, relative to the repository root
    line: int  # 1-based line of the opening fence
    info: str  # the fence's info string ("" when unlabelled or indented)
    source: str
    fenced: bool = True

    @property
    def language(self) -> str:
        words = self.info.split()
        return words[0].lower() if words else ""

    @property
    def kind(self) -> str:
        """``run`` (python, pycon, console), ``text``, ``no-run`` or ``unmarked``."""
        if not self.fenced:
            return "unmarked"
        if NO_RUN in self.info.split()[1:]:
            return "no-run"
        if self.language == "text" and len(self.info.split()) == 1:
            return "text"
        if self.language in RUNNABLE and len(self.info.split()) == 1:
            return "run"
        return "unmarked"

    @property
    def name(self) -> str:
        return f"{self.document}:{self.line}-{self.language or 'unlabelled'}"


def documents() -> list[Path]:
    """README.md and every Markdown file under docs/, so that a new page is picked up."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks_of(path: Path) -> list[Block]:
    """The code blocks of one Markdown file, in order."""
    name = path.relative_to(ROOT).as_posix()
    found = []
    for token in MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8")):
        if token.type in ("fence", "code_block") and token.map is not None:
            found.append(
                Block(
                    document=name,
                    line=token.map[0] + 1,
                    info=token.info.strip() if token.type == "fence" else "",
                    source=token.content,
                    fenced=token.type == "fence",
                )
            )
    return found


def all_blocks() -> list[Block]:
    return [block for path in documents() for block in blocks_of(path)]


def inventory() -> str:
    """One line saying how many blocks run, and how many are shown or marked not to run."""
    blocks = all_blocks()
    kinds = Counter(block.kind for block in blocks)
    languages = Counter(block.language for block in blocks if block.kind == "run")
    ran = ", ".join(f"{count} {language}" for language, count in sorted(languages.items()))
    line = (
        f"documentation: {len(documents())} files, {len(blocks)} code blocks: {ran} run; "
        f"{kinds['text']} text shown; {kinds['no-run']} marked no-run (checked, not run)"
    )
    if kinds["unmarked"]:
        line += f"; {kinds['unmarked']} UNMARKED"
    return line
