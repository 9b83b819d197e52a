"""``amgr history``: past runs as a table, JSON or CSV, with a summary and error patterns.

The command only parses and renders; :mod:`automation_manager.logs.history` decides
which records match and what they add up to. ``--json`` streams each record's original
line to stdout, so a year of history is never held in memory or re-encoded.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import click

from ..errors import UsageError
from ..text import format_ms, plural
from .output import console, home_view, is_tty

if TYPE_CHECKING:
    from ..logs.history import HistoryScan
    from ..logs.summary import ErrorPattern, HistorySummary, TypeTotals

TABLE_LIMIT = 50
CSV_FIELDS = (
    "id",
    "timestamp",
    "task_id",
    "category",
    "type",
    "trigger",
    "attempt",
    "scheduled_for",
    "status",
    "success",
    "duration_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "calls",
    "provider",
    "run_id",
    "error",
    "params",
    "result",
)


@click.group("history", invoke_without_command=True)
@click.option("--days", type=int, default=7, show_default=True, help="Look back N days.")
@click.option("--since", metavar="WHEN", help="From this time: 2026-11-30, an ISO time, or 2h, 3d.")
@click.option("--until", metavar="WHEN", help="Before this time (same forms as --since).")
@click.option(
    "--status",
    type=click.Choice(["success", "failed", "interrupted", "skipped"]),
    help="Only records with this status.",
)
@click.option("--grep", metavar="TEXT", help="Only records whose error or topic holds TEXT.")
@click.option(
    "-f",
    "--follow",
    is_flag=True,
    help="Print new records as they are written, until Ctrl-C (--json: one line each).",
)
@click.option("--category", metavar="C", help="Only this category.")
@click.option("--type", "type_", metavar="T", help="Only this task type.")
@click.option(
    "--process-type",
    metavar="P",
    help="Only this process type (content, publishing, monetization, maintenance, "
    "deployment, optimization, monitoring).",
)
@click.option("--task", "task_id", metavar="ID", help="Only this task.")
@click.option("--success-only", is_flag=True, help="Only successful runs.")
@click.option("--failed-only", is_flag=True, help="Only failed or interrupted runs.")
@click.option("--json", "as_json", is_flag=True, help='Print {"records": [...], "summary": {...}}.')
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per record.")
@click.option(
    "--limit",
    type=int,
    default=None,
    metavar="N",
    help=f"Show the newest N records (table default {TABLE_LIMIT}; --json/--csv: all).",
)
@click.pass_context
def history_cmd(
    ctx: click.Context,
    days: int,
    since: str | None,
    until: str | None,
    status: str | None,
    grep: str | None,
    follow: bool,
    category: str | None,
    type_: str | None,
    process_type: str | None,
    task_id: str | None,
    success_only: bool,
    failed_only: bool,
    as_json: bool,
    as_csv: bool,
    limit: int | None,
) -> None:
    """Past runs, newest first: a table, a summary and the most common errors.

    The summary covers every matching run (count, success rate, duration p50/p95,
    tokens, cost, per day and per type); the table shows the newest ones.

    \b
    Examples:
      amgr history
      amgr history --days 30 --failed-only
      amgr history --category content_creation --type blog --json
      amgr history --task daily-blog --csv > runs.csv
      amgr history --since 2h --status failed --grep timeout
      amgr history --since 2026-11-30 --until 2026-12-01
      amgr history show r019a2b3c      # one record whole, by a unique id prefix
      amgr history -f                  # follow new records; Ctrl-C stops
    """
    from ..logs.history import HistoryQuery, HistoryScan

    if ctx.invoked_subcommand is not None:
        return
    if as_json and as_csv:
        raise UsageError("--json and --csv exclude each other: pick one output format")
    if limit is not None and limit < 0:
        raise UsageError(f"--limit {limit}: must be 0 or more")
    mgr = home_view(ctx)
    now = mgr.now()
    if now.tzinfo is None:
        now = now.astimezone()
    query = HistoryQuery.from_options(
        now,
        since=since,
        until=until,
        status=status,
        grep=grep,
        days=days,
        category=category,
        type=type_,
        task_id=task_id,
        success_only=success_only,
        failed_only=failed_only,
        process_type=process_type,
    )
    if follow:
        if as_csv:
            raise UsageError("--follow and --csv exclude each other: use --follow --json")
        _follow(ctx, query, as_json)
        return
    every = (as_json or as_csv) and limit is None  # then read all files' bytes ahead
    scan = HistoryScan(mgr.home, query, now, data=every)
    try:
        if as_json:
            _write_json(scan, limit, sys.stdout.buffer)
        elif as_csv:
            _write_csv(scan, limit)
        else:
            _write_report(scan, TABLE_LIMIT if limit is None else limit)
    except BrokenPipeError:  # `amgr history --csv | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        ctx.exit(0)


def _write_json(scan: HistoryScan, limit: int | None, out: IO[bytes]) -> None:
    """Stream ``{"records": [...], "summary": {...}}``: each record's bytes as read."""
    sys.stdout.flush()
    out.write(b'{"records": [\n')
    out.flush()
    from .sink import GATHER_BYTES, RecordSink

    # a big answer takes the gather path from its first record (see cli/sink.py)
    sink = RecordSink(out, gather=limit is None and scan.log_bytes() >= GATHER_BYTES)
    left = -1 if limit is None else limit
    for day, rows in scan:
        if left == 0:
            continue
        idx = day.index
        if rows is None and left < 0 and not day.decoded():
            sink.add_rows(day.data, idx.col("start"), idx.col("end"))
        else:
            chosen = range(idx.rows) if rows is None else rows
            if left > 0:
                chosen = chosen[:left]
                left -= len(chosen)
            sink.add([day.raw(r) for r in chosen])
    out.write(b'\n],\n"summary": ')
    out.write(json.dumps(scan.summary().to_json(), indent=2, ensure_ascii=False).encode())
    out.write(b"}\n")
    out.flush()


def _write_csv(scan: HistoryScan, limit: int | None) -> None:
    """A header row, then one row per record, written a day at a time (one write each,
    even where ``PYTHONUNBUFFERED`` makes every write to stdout a system call)."""
    import csv
    import io

    chunk = io.StringIO()
    writer = csv.writer(chunk, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    dumps = _json_text()
    left = -1 if limit is None else limit
    for day, rows in scan:  # no summary in CSV: stop at the limit
        chosen = range(day.index.rows) if rows is None else rows
        if left >= 0:
            chosen = chosen[:left]
            left -= len(chosen)
        writer.writerows(_csv_row(day.record(row), dumps) for row in chosen)
        sys.stdout.write(chunk.getvalue())
        chunk.seek(0)
        chunk.truncate()
        if left == 0:
            break
    sys.stdout.write(chunk.getvalue())
    sys.stdout.flush()


_HEAD = CSV_FIELDS[: CSV_FIELDS.index("prompt_tokens")]
_USAGE = ("prompt_tokens", "completion_tokens", "cost_usd", "calls")
_TAIL = ("provider", "run_id", "error")
assert (*_HEAD, *_USAGE, *_TAIL, "params", "result") == CSV_FIELDS


def _json_text() -> Any:
    """``json.dumps(value, ensure_ascii=False)`` for parsed JSON, with the C encoder made
    once instead of once a call (a year of records has two such cells a row)."""
    from json import encoder

    c_make_encoder = getattr(encoder, "c_make_encoder", None)  # CPython's _json
    if c_make_encoder is None:  # no C accelerator: the plain way
        return lambda value: json.dumps(value, ensure_ascii=False)
    default = json.JSONEncoder().default
    encode = c_make_encoder(
        None, default, encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    return lambda value: "".join(encode(value, 0))


def _csv_row(rec: dict[str, Any], dumps: Any = None) -> list[Any]:
    """One record's cells: ``true``/``false`` for booleans, ``""`` for a missing value,
    usage flattened, ``params`` and ``result`` as JSON text."""
    get = rec.get
    usage = get("usage")
    values = [*map(get, _HEAD)]
    if isinstance(usage, dict) and usage:
        values += map(usage.get, _USAGE)
    else:
        values += (None,) * len(_USAGE)
    values += map(get, _TAIL)
    out: list[Any] = [
        "" if v is None else "true" if v is True else "false" if v is False else v for v in values
    ]
    dumps = dumps or _json_text()
    for name in ("params", "result"):
        value = get(name)
        out.append("" if value is None else dumps(value))
    return out


def _write_report(scan: HistoryScan, limit: int) -> None:
    """The newest ``limit`` runs as a table, then the summary and error patterns."""
    shown: list[dict[str, Any]] = []
    for day, rows in scan:
        chosen = range(day.index.rows) if rows is None else rows
        for row in chosen[: limit - len(shown)]:
            shown.append(day.record(row))
    summary = scan.summary()
    tty = is_tty()
    if shown:
        _runs_table(shown, tty)
    total = summary.runs
    if total == 0:
        click.echo(
            f"no runs in the last {plural(summary.days, 'day')}{summary.filters.described()}"
        )
    elif len(shown) < total:
        click.echo(f"showing {len(shown)} of {total:,} runs (newest first; --limit N for more)")
    if total:
        click.echo("")
        for line in summary_lines(summary):
            click.echo(line)
        _errors_block(summary.errors)
        _per_type_block(summary.per_type)
    if summary.unreadable_lines:
        click.echo(
            f"\n{summary.unreadable_lines} unreadable log lines skipped "
            "(e.g. a line torn by a crash)"
        )


def _runs_table(records: list[dict[str, Any]], tty: bool) -> None:
    from ..ids import short_forms

    columns = [
        "time",
        "task",
        "category",
        "type",
        "trigger",
        "status",
        "duration",
        "tokens",
        "cost",
        "error",
        "id",
    ]
    short = short_forms(str(r.get("id", "")) for r in records) if tty else {}
    rows = [_table_row(r, short, tty) for r in records]
    if not tty:
        from .output import table

        table(None, columns, rows)
        return
    from rich.table import Table

    styles = {"success": "green", "failed": "red", "interrupted": "yellow", "skipped": "dim"}
    t = Table(show_lines=False, header_style="bold")
    for col in columns:
        t.add_column(col, overflow="fold", max_width=48 if col == "error" else None)
    for rec, row in zip(records, rows, strict=True):
        t.add_row(*row, style=styles.get(str(rec.get("status")), ""))
    console().print(t)


def _table_row(rec: dict[str, Any], short: dict[str, str], tty: bool) -> list[str]:
    """One record's cells; on a TTY the id's short form and a cut error, piped whole."""
    usage = rec.get("usage") if isinstance(rec.get("usage"), dict) else None
    tokens = cost = ""
    if usage:
        total = int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)
        tokens = f"{total:,}"
        cost = f"${float(usage.get('cost_usd') or 0):.4f}"
    error = " ".join(str(rec.get("error") or "").split())
    return [
        _when(rec.get("timestamp")),
        str(rec.get("task_id", "")),
        str(rec.get("category", "")),
        str(rec.get("type", "")),
        str(rec.get("trigger", "")),
        str(rec.get("status", "")),
        format_ms(rec.get("duration_ms")),
        tokens,
        cost,
        error if not tty or len(error) <= 80 else error[:79] + "…",
        short.get(str(rec.get("id", "")), str(rec.get("id", ""))),
    ]


def _when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


def summary_lines(summary: HistorySummary) -> list[str]:
    """The summary as a few lines of plain text."""
    counts = " · ".join(f"{n:,} {s}" for s, n in summary.by_status.items())
    rate = summary.success_rate
    d = summary.duration_ms
    tok = summary.tokens
    lines = [
        f"{summary.runs:,} {'run' if summary.runs == 1 else 'runs'} since "
        f"{_when(summary.since)}{summary.filters.described()}: " + counts,
        "success rate "
        + (f"{rate:.1%}" if rate is not None else "n/a (nothing ran)")
        + f" · duration p50 {format_ms(d.p50) or 'n/a'}, p95 {format_ms(d.p95) or 'n/a'}",
    ]
    if tok.total or summary.cost_usd:
        lines.append(
            f"tokens {tok.prompt:,} prompt + {tok.completion:,} completion"
            f" · cost ${summary.cost_usd:.4f}"
        )
    return lines


def _errors_block(errors: list[ErrorPattern]) -> None:
    if not errors:
        return
    click.echo("\nmost common errors:")
    for e in errors:
        click.echo(f"  {e.count:>7,}  {e.pattern}")


def _per_type_block(per_type: dict[str, TypeTotals]) -> None:
    if not per_type:
        return
    click.echo("\nLLM use by type:")
    for kind, s in per_type.items():
        click.echo(
            f"  {kind:<32} {s.prompt_tokens + s.completion_tokens:>12,} tokens  ${s.cost_usd:.4f}"
        )


from .history_record import follow as _follow  # noqa: E402  (after history_cmd, its group)
from .history_record import show_cmd  # noqa: E402

history_cmd.add_command(show_cmd)
