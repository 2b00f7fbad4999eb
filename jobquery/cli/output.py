"""What the command line prints: notices, errors, and jobs as JSON, NDJSON, CSV or tables.

Output that is not a terminal is plain and stable: no colour, fixed width, no trailing blanks.
Errors are one line on stderr with exit status 2 (:func:`reported_errors`,
:class:`JobQueryGroup`), never a traceback; with ``--format json`` the API error body is
printed on stdout as well.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from jobquery.cli.options import OPTION_BY_WIRE
from jobquery.errors import InternalError, InvalidParameterError, JobQueryError
from jobquery.request import PARAMETERS


class _LazyModule:
    """A module imported when first used.

    ``jobquery --help`` and commands that never touch a frame start without importing Polars
    (docs/performance.md, "Start-up"); the other heavy modules (rich's renderers, the store,
    the server, the generator) are imported inside the functions that use them.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


if TYPE_CHECKING:
    import polars as pl
    from rich.console import JustifyMethod, RenderableType
    from rich.table import Table

    from jobquery.store import JobStore
else:
    pl = _LazyModule("polars")

#: Exit status of every refused input (bad option value, missing or malformed dump).
EXIT_USAGE = 2
#: Exit status of an unexpected failure inside the engine.
EXIT_INTERNAL = 1
#: Width of tables written to a file or a pipe: wide enough that rows never wrap.
PLAIN_WIDTH = 240

# ---------------------------------------------------------------------------------------------
# Terminals, notices and errors.


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def print_out(*renderables: RenderableType) -> None:
    """Print to stdout with rich: styled on a terminal, else plain text without trailing blanks."""
    from rich.console import Console

    if _is_terminal(sys.stdout):
        Console(file=sys.stdout, highlight=False).print(*renderables)
        return
    console = Console(
        file=sys.stdout,
        width=PLAIN_WIDTH,
        no_color=True,
        highlight=False,
        force_terminal=False,
        emoji=False,
    )
    with console.capture() as captured:
        console.print(*renderables)
    # rich pads every cell to its column's width; a file or pipe gets no trailing spaces
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def _notice(message: str) -> None:
    click.echo(message, err=True)


class CliError(Exception):
    """A problem with the command line itself (not a ListJobs parameter): one line, exit 2."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")


#: What to do about an error that only the command line can fix.
PARAMETER_HINTS = {
    "ShowOwn": "give --as-user ID",
    "StartTime": "a date alone such as 2026-11-08 is midnight UTC",
    "EndTime": "a date alone such as 2026-11-08 is midnight UTC",
}
_WIRE_NAMES = re.compile(r"\b(" + "|".join(sorted(PARAMETERS, key=len, reverse=True)) + r")\b")


def option_message(error: InvalidParameterError) -> str:
    """An InvalidParameterError worded for the command line: the option, not the wire name."""
    option = OPTION_BY_WIRE.get(error.parameter)
    name = option.flag if option else error.parameter
    reason = _WIRE_NAMES.sub(
        lambda match: OPTION_BY_WIRE[match.group(1)].flag,
        re.sub(r"\b(ShowOwn|FromAllWorkspaces|EnableAssignNode)=true\b", r"\1", error.reason),
    )
    details = []
    if option is None or option.kind != "bool":
        value = error.value if isinstance(error.value, str) else str(error.value)
        shown = value if len(value) <= 60 else value[:57] + "..."
        details.append(f"got {shown!r}")
    if error.valid_values:
        details.append(f"valid values: {', '.join(error.valid_values)}")
    if error.parameter in PARAMETER_HINTS:
        details.append(PARAMETER_HINTS[error.parameter])
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"{name}: {reason}{suffix}"


def _fail(message: str, status: int = EXIT_USAGE) -> click.exceptions.Exit:
    _notice(f"error: {' '.join(message.splitlines())}")
    return click.exceptions.Exit(status)


@contextmanager
def reported_errors(
    output_format: str | None = None, request_id: str | None = None
) -> Iterator[None]:
    """Turn every expected failure into one line on stderr and exit status 2."""
    try:
        yield
    except InvalidParameterError as exc:
        if output_format == "json":
            click.echo(_pretty_json(exc.to_wire(request_id)), nl=False)
        raise _fail(option_message(exc)) from None
    except InternalError as exc:
        if output_format == "json":
            click.echo(_pretty_json(exc.to_wire(request_id)), nl=False)
        report_damaged_entries()
        cause = exc.__cause__
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        raise _fail(f"internal error{detail}", EXIT_INTERNAL) from None
    except (JobQueryError, CliError) as exc:
        raise _fail(str(exc)) from None
    except BrokenPipeError:
        # the reader went away (`| head`): not a failure; what is left to print goes nowhere
        stdout_to_devnull()
        raise click.exceptions.Exit(0) from None
    except FileNotFoundError as exc:
        where = exc.filename
        raise _fail(str(exc) if where is None else f"{where}: no such file or folder") from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _fail(f"{where}{exc.strerror or exc}") from None


#: The snapshot cache entries the command answers from (``load_store`` adds them): opening
#: one checks a sample of its blocks only, so an unexpected failure checks them in full.
ANSWERED_FROM: list[Path] = []


def report_damaged_entries() -> None:
    """After an unexpected failure: check every block of the cache entries the command
    answered from; a damaged one is removed, with a note (the next command reads the dumps)."""
    if not ANSWERED_FROM:
        return
    from jobquery.io.cache import check_entry

    for entry in ANSWERED_FROM:
        reason = check_entry(entry)
        if reason is not None:
            _notice(
                f"note: the cached snapshot {entry.name} is damaged ({reason}): removed it; "
                "the next command reads the dumps again"
            )
    ANSWERED_FROM.clear()


def stdout_to_devnull() -> None:
    """Point this process's stdout (a pipe or a file) at /dev/null: what is printed after is
    dropped, and the pipe's reader sees its end. A terminal, or a replaced stdout (a test's
    capture), is left as it is."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced (click's test runner, a capture)
        return
    if descriptor != 1 or os.isatty(descriptor):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


#: Exit status after Ctrl-C (128 + SIGINT, as shells report a process ended by it).
EXIT_INTERRUPTED = 130


class KeyboardInterruptError(Exception):
    """Ctrl-C inside a command, carried past click (which would print a blank line first)."""


def report_interrupted() -> int:
    """Ctrl-C: one line on stderr (over the terminal's ``^C`` echo), and the exit status."""
    sys.stderr.write(("\r" if _is_terminal(sys.stderr) else "") + "interrupted\n")
    sys.stderr.flush()
    return EXIT_INTERRUPTED


class JobQueryGroup(click.Group):
    """The top-level group: usage errors are one line too, and nothing ends in a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined: the order of the docs

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise KeyboardInterruptError from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        ANSWERED_FROM.clear()
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            with reported_errors():
                status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except (KeyboardInterruptError, KeyboardInterrupt):
            status = report_interrupted()
        except click.exceptions.Exit as exc:
            status = exc.exit_code
        except click.ClickException as exc:
            status = _report_click_error(exc)
        except click.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C while parsing options
                status = report_interrupted()
            else:
                _notice("aborted")
                status = 1
        except BaseException as exc:
            # pyo3's PanicException (a panic in Polars' Rust) is a BaseException
            unexpected = isinstance(exc, Exception) or type(exc).__name__ == "PanicException"
            if not unexpected or os.environ.get("JOBQUERY_DEBUG"):
                raise
            report_damaged_entries()
            _notice(
                f"error: internal error ({type(exc).__name__}: {exc}); "
                "set JOBQUERY_DEBUG=1 to see the traceback"
            )
            status = EXIT_INTERNAL
        sys.exit(status if isinstance(status, int) else 0)


def _report_click_error(exc: click.ClickException) -> int:
    """A click error as one line (a usage error says where its help is); its exit status.

    A command group named without a command prints its help as it is (to stderr, exit 2:
    nothing was done), not as an error line."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        click.echo(exc.format_message(), err=True)
        return exc.exit_code
    hint = ""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        hint = f" (see '{exc.ctx.command_path} --help')"
    _notice(f"error: {exc.format_message()}{hint}")
    return exc.exit_code


# ---------------------------------------------------------------------------------------------
# Rendering jobs: JSON, NDJSON, CSV and tables.


def _pretty_json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which a losslessly stored job may carry
        return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def public_columns(frame: pl.DataFrame) -> list[str]:
    """The typed top-level columns of a store frame (no index columns, no ``job_json``)."""
    from jobquery.snapshot import JOB_JSON

    return [name for name in frame.columns if not name.startswith("ix_") and name != JOB_JSON]


def page_frame(store: JobStore, jobs: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """The typed rows (and ``job_json``) of a page of jobs, in page order."""
    from jobquery.snapshot import JOB_JSON

    frame = store.snapshot.live
    columns = [*public_columns(frame), JOB_JSON]
    order = pl.DataFrame({"JobId": [job["JobId"] for job in jobs]}, schema={"JobId": pl.String})
    found = order.join(frame.select(columns), on="JobId", how="left", maintain_order="left")
    return store.snapshot.with_json_texts(found)


def _text_expression(name: str, dtype: pl.DataType) -> pl.Expr:
    """One column as stable text: RFC 3339 times, integral numbers without ``.0``."""
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        whole = column.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        fraction = column.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        return pl.when(column.dt.microsecond() == 0).then(whole).otherwise(fraction).alias(name)
    if dtype.is_float():
        integral = (column == column.round(0)) & (column.abs() < 2.0**53)
        as_int = column.cast(pl.Int64, strict=False).cast(pl.String)
        return pl.when(integral).then(as_int).otherwise(column.cast(pl.String)).alias(name)
    return column.cast(pl.String).alias(name)


def as_text(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The chosen columns of a frame as strings (nulls stay null)."""
    return frame.select([_text_expression(name, frame.schema[name]) for name in columns])


def resolve_columns(requested: str | None) -> list[str] | None:
    """``--columns a,b`` as typed top-level column names (case-insensitive), or None."""
    from jobquery.snapshot.columns import TYPED_COLUMNS

    if requested is None:
        return None
    known = {name.casefold(): name for name in TYPED_COLUMNS}
    chosen = []
    for item in requested.split(","):
        name = item.strip()
        if not name:
            continue
        if name.casefold() not in known:
            raise CliError(
                "--columns",
                f"unknown column {name!r} (valid: {', '.join(TYPED_COLUMNS)})",
            )
        chosen.append(known[name.casefold()])
    if not chosen:
        raise CliError("--columns", "name at least one column")
    return chosen


def humanise_seconds(seconds: float | None) -> str:
    """A duration for people: ``45s``, ``12m 05s``, ``3h 07m``, ``2d 04h``."""
    if seconds is None or math.isnan(seconds):
        return ""
    total = round(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


STATUS_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "stopped": "yellow",
    "running": "cyan",
}

#: The default table of ``list``: header → how to show it from the typed row.
TABLE_COLUMNS: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("JobId", lambda row: row["JobId"] or ""),
    ("DisplayName", lambda row: row["DisplayName"] or ""),
    ("JobType", lambda row: row["JobType"] or ""),
    ("Status", lambda row: row["Status"] or ""),
    ("User", lambda row: row["Username"] or row["UserId"] or ""),
    (
        "Created (UTC)",
        lambda row: row["GmtCreateTime"].strftime("%Y-%m-%d %H:%M") if row["GmtCreateTime"] else "",
    ),
    ("Duration", lambda row: humanise_seconds(row["Duration"])),
    ("GPUs", lambda row: _number_text(row["RequestGPU"])),
)


def _add_table_column(table: Table, header: str, *, right: bool, longest: int, fixed: bool) -> None:
    """A column of a jobs table: JobIds are never cut (they are copied into ``get``); on a
    narrow terminal the other columns give way, folding their text onto more lines.
    ``longest``: the widest cell of the column (its header included); ``fixed``: the column
    is exactly that wide (so that the pieces of a long table line up)."""
    justify: JustifyMethod = "right" if right else "left"
    width = longest if fixed else None
    if header != "JobId":
        table.add_column(header, justify=justify, overflow="fold", width=width)
        return
    table.add_column(header, justify=justify, no_wrap=True, min_width=longest, width=width)


#: The default columns a narrow terminal leaves out, first to last, until a row fits on a line
#: (JobId, DisplayName and Status always stay).
NARROW_LEAVES_OUT = ("GPUs", "JobType", "Duration", "Created (UTC)", "User")

#: Rows per rich table when a long table is printed a piece at a time: rich lays a table out
#: whole before printing a line of it (seconds and gigabytes for hundreds of thousands of
#: rows).
TABLE_PIECE_ROWS = 1000


def render_table(frame: pl.DataFrame, columns: Sequence[str] | None, footer: str) -> None:
    """Jobs as a table (rich), then the footer line."""
    if columns is None:
        every = [[show(row) for _, show in TABLE_COLUMNS] for row in frame.iter_rows(named=True)]
        headers = [header for header, _ in TABLE_COLUMNS]
        shown = fitting_columns(headers, every, NARROW_LEAVES_OUT)
        rows = [[texts[at] for at in shown] for texts in every]
        names = [headers[at] for at in shown]
        styles = [STATUS_STYLES.get((status or "").casefold(), "") for status in frame["Status"]]
        note = hidden_note(headers, shown, "see --columns")
        if note and frame.height:
            footer += "\n" + note
        _print_table(names, rows, right=("Duration", "GPUs"), styles=styles, footer=footer)
    else:
        rows = [[cell or "" for cell in texts] for texts in as_text(frame, columns).iter_rows()]
        _print_table(list(columns), rows, right=(), styles=None, footer=footer)


def _print_table(
    names: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[str],
    styles: Sequence[str] | None,
    footer: str,
) -> None:
    """Rows of texts as a table under ``names``, then ``footer``; ``styles``: of each row's
    ``Status`` cell. A table longer than :data:`TABLE_PIECE_ROWS` rows is printed that many
    rows at a time, its columns fixed at their widest cell (the same lines as one table) or,
    when that is wider than the output, narrowed widest first (JobIds are never cut); a
    shorter one is laid out whole by rich."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    longest = _widest_cells(names, rows)
    room = _output_width() - 3 * (len(names) - 1)
    fits = sum(longest) <= room
    fixed = fits or len(rows) > TABLE_PIECE_ROWS
    if not fits and fixed:
        longest = _narrowed(longest, [name == "JobId" for name in names], room)
    step = TABLE_PIECE_ROWS if fixed else max(len(rows), 1)
    status_at = names.index("Status") if styles is not None else None
    for start in range(0, len(rows), step):
        table = Table(box=box.HORIZONTALS, show_edge=False, pad_edge=False, show_header=not start)
        for name, widest in zip(names, longest, strict=True):
            _add_table_column(table, name, right=name in right, longest=widest, fixed=fixed)
        for offset, texts in enumerate(rows[start : start + step]):
            cells = [Text(text) for text in texts]
            if styles is not None and status_at is not None:
                cells[status_at].stylize(styles[start + offset])
            table.add_row(*cells)
        print_out(table)
    print_out(Text(footer))


def _narrowed(widths: Sequence[int], kept: Sequence[bool], room: int) -> list[int]:
    """Column widths that fit ``room`` cells: the widest column not ``kept`` gives a cell at a
    time, down to :data:`_NARROWEST` (a table that cannot fit any narrower stays wider)."""
    narrowed = list(widths)
    while sum(narrowed) > room:
        can_give = [at for at, width in enumerate(narrowed) if not kept[at] and width > _NARROWEST]
        if not can_give:
            break
        narrowed[max(can_give, key=lambda at: narrowed[at])] -= 1
    return narrowed


#: The narrowest a folded column of a long table gets.
_NARROWEST = 6


def _widest_cells(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    """Per column, the cells its widest text takes, its header included."""
    from rich.cells import cell_len

    return [
        max([cell_len(header), *(cell_len(row[at]) for row in rows)])
        for at, header in enumerate(headers)
    ]


def _output_width() -> int:
    """The width a table on stdout has: the terminal's, or :data:`PLAIN_WIDTH`."""
    from rich.console import Console

    return Console(file=sys.stdout).width if _is_terminal(sys.stdout) else PLAIN_WIDTH


def fitting_columns(
    headers: Sequence[str], rows: Sequence[Sequence[str]], leave_out: Sequence[str]
) -> list[int]:
    """The places of the columns of a table printed to stdout whose widest cells fit on one
    line, leaving out the columns ``leave_out`` names in turn, first to last (a terminal's
    width; a file or pipe: :data:`PLAIN_WIDTH`). Three cells part two columns: their padding
    and the table's divider."""
    width = _output_width()
    widths = _widest_cells(headers, rows)
    shown = list(range(len(headers)))
    for header in leave_out:
        if sum(widths[at] for at in shown) + 3 * (len(shown) - 1) <= width:
            break
        if header in headers:
            shown.remove(headers.index(header))
    return shown


def hidden_note(headers: Sequence[str], shown: Sequence[int], hint: str) -> str:
    """A line naming the columns :func:`fitting_columns` left out, and how to see them (empty
    when none was)."""
    hidden = [header for at, header in enumerate(headers) if at not in shown]
    return f"hidden at this width: {', '.join(hidden)} ({hint})" if hidden else ""


def render_csv(frame: pl.DataFrame, columns: Sequence[str] | None) -> None:
    chosen = list(columns) if columns is not None else public_columns(frame)
    click.echo(as_text(frame, chosen).write_csv(), nl=False)


def render_ndjson(texts: Sequence[str]) -> None:
    out = sys.stdout
    for text in texts:
        out.write(text)
        out.write("\n")
    out.flush()


def render_json_array(texts: Sequence[str]) -> None:
    """Every job as one JSON array, one job per line (streamable, valid JSON)."""
    out = sys.stdout
    out.write("[")
    for index, text in enumerate(texts):
        out.write("\n" if index == 0 else ",\n")
        out.write(text)
    out.write("\n]\n" if texts else "]\n")
    out.flush()


def render_every_match(frame: pl.DataFrame, fmt: str, columns: Sequence[str] | None) -> None:
    """Every match (``list --all``) in the chosen format; a table ends with their count."""
    from jobquery.snapshot import JOB_JSON

    if fmt == "json":
        render_json_array(frame[JOB_JSON].to_list())
    elif fmt == "ndjson":
        render_ndjson(frame[JOB_JSON].to_list())
    elif fmt == "csv":
        render_csv(frame, columns)
    else:
        noun = "job" if frame.height == 1 else "jobs"
        footer = f"{frame.height} matching {noun}" if frame.height else "no matching jobs"
        render_table(frame, columns, footer)


def render_page(frame: pl.DataFrame, fmt: str, columns: Sequence[str] | None, footer: str) -> None:
    """The jobs of one page as NDJSON, CSV or a table ending with ``footer``."""
    from jobquery.snapshot import JOB_JSON

    if fmt == "ndjson":
        render_ndjson(frame[JOB_JSON].to_list())
    elif fmt == "csv":
        render_csv(frame, columns)
    else:
        render_table(frame, columns, footer)


def page_footer(total: int, page_number: int, page_size: int) -> str:
    """``page 1 of 8 · 72 matching jobs``."""
    if total == 0:
        return "no matching jobs"
    pages = math.ceil(total / page_size)
    noun = "job" if total == 1 else "jobs"
    past = " (past the last page)" if page_number > pages else ""
    return f"page {page_number} of {pages} · {total} matching {noun}{past}"


def _chosen_format(output_format: str | None) -> str:
    if output_format is not None:
        return output_format.lower()
    return "table" if _is_terminal(sys.stdout) else "json"
