"""The ``madoguchi`` command (DESIGN 4.1).

Errors are turned into a one-line message and the exception's exit code here, and only here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from forms.errors import MadoguchiError


def _cmd_forms_list(args: argparse.Namespace) -> int:
    from forms.catalogue import catalogue

    for form in catalogue().values():
        number = form.form_number or "—"
        blank = "docx,pdf" if form.blank else "-"
        print(f"{form.id:28} {number:8} {blank:9} {form.title}")
    return 0


def _cmd_forms_download(args: argparse.Namespace) -> int:
    from forms.catalogue import get_form
    from generate.blank_forms import blank_docx, blank_pdf

    from forms.errors import UnknownForm
    from generate.notices import OutputNotWritable

    form = get_form(args.form_id)
    if not form.blank:
        # a document others issue (納税証明書, 原産地証明書): there is no blank to hand out
        raise UnknownForm(f"{form.id} は他の機関が発行する書類で、配布する様式はありません", form=form.id)
    data = blank_docx(form) if args.format == "docx" else blank_pdf(form)
    out = Path(args.output) if args.output else Path(f"{form.id}.{args.format}")
    if out.is_dir():
        out = out / f"{form.id}.{args.format}"
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise OutputNotWritable(f"{out} に書き込めません: {exc.strerror or exc}", path=str(out)) from None
    print(out)
    return 0


def _progress_printer() -> Callable[[str, int, int], None]:
    """Pages read, on stderr when it is a terminal (a 50-page scan takes minutes)."""
    if not sys.stderr.isatty():
        return lambda name, done, total: None

    def show(name: str, done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{name}: {done}/{total} ページ読取済み", end=end, file=sys.stderr, flush=True)

    return show


def _cmd_extract(args: argparse.Namespace) -> int:
    from extract.pipeline import extract_files
    from web.render import print_result_table

    result = extract_files([Path(f) for f in args.files], program=args.program, progress=_progress_printer())
    if args.json:
        print(result.to_json())
    else:
        print_result_table(result)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from web.checking import run_check_command

    return run_check_command([Path(f) for f in args.files], args.program, as_json=args.json, today=args.today)


def _cmd_generate(args: argparse.Namespace) -> int:
    from web.generating import run_generate_command

    return run_generate_command(
        args.kind, args.program, [Path(p) for p in args.data], Path(args.output), force=args.force
    )


def _runtime() -> object:
    """The service's runtime (settings from the environment), its database migrated."""
    from web.config import Settings
    from web.db_session import Runtime

    from web.bootstrap import sync_programs

    rt = Runtime.from_settings(Settings())
    rt.db.migrate()
    sync_programs(rt)
    return rt


def _cmd_export_ministry(args: argparse.Namespace) -> int:
    from web.ministry_export import file_stem, gift_rows, title_of, to_csv, to_xlsx

    rt = _runtime()
    with rt.db.session() as s:  # type: ignore[attr-defined]
        rows = gift_rows(s, args.program, args.date_from, args.date_to)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(args.program, args.date_from, args.date_to)
    (out / f"{stem}.xlsx").write_bytes(to_xlsx(rows, title_of(args.program, args.date_from, args.date_to)))
    (out / f"{stem}.csv").write_bytes(to_csv(rows))
    print(out / f"{stem}.xlsx")
    print(out / f"{stem}.csv")
    print(f"{len(rows)} 件", file=sys.stderr)
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    from web.retention import purge
    from web.tasks import today_jst

    rt = _runtime()
    result = purge(rt, args.today or today_jst(), dry_run=args.dry_run)  # type: ignore[arg-type]
    label = "廃棄の予定 (dry run)" if args.dry_run else "廃棄しました"
    print(f"{label}: {result.today.isoformat()}")
    for program, counts in result.by_program.items():
        print(f"  {program}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if not result.counts:
        print("  保存期間を過ぎたものはありません")
    for report_id in result.reports:
        print(f"  廃棄報告 #{report_id}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from web.serve import serve

    serve(host=args.host, port=args.port)
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def _budget(text: str) -> str:
    """``--budget``: checked here, applied as ``MADOGUCHI_BUDGET`` (the one place it is read)."""
    from extract.ingest import Budget

    try:
        Budget.parse(text)
    except MadoguchiError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    return text


_BUDGET_HELP = "time and memory one document may cost, e.g. 600s, 1.5GB or 600s,1.5GB (default 600s,2GB; env MADOGUCHI_BUDGET)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="madoguchi", description="窓口: 申請書類の読取・審査・通知")
    sub = parser.add_subparsers(dest="command", required=True)

    forms = sub.add_parser("forms", help="the form catalogue and blank forms")
    forms_sub = forms.add_subparsers(dest="forms_command", required=True)
    forms_sub.add_parser("list", help="list the forms").set_defaults(func=_cmd_forms_list)
    dl = forms_sub.add_parser("download", help="write a blank form")
    dl.add_argument("form_id")
    dl.add_argument("--format", choices=("docx", "pdf"), default="docx")
    dl.add_argument("-o", "--output")
    dl.set_defaults(func=_cmd_forms_download)

    ex = sub.add_parser("extract", help="read documents into records")
    ex.add_argument("files", nargs="+")
    ex.add_argument("--program")
    ex.add_argument("--json", action="store_true")
    ex.add_argument("--budget", type=_budget, help=_BUDGET_HELP)
    ex.set_defaults(func=_cmd_extract)

    ck = sub.add_parser("check", help="check documents against a program's requirements")
    ck.add_argument("files", nargs="+")
    ck.add_argument("--program", required=True)
    ck.add_argument("--json", action="store_true")
    ck.add_argument("--today", type=_iso_date, help="the date the checks are made on (YYYY-MM-DD; default today)")
    ck.add_argument("--budget", type=_budget, help=_BUDGET_HELP)
    ck.set_defaults(func=_cmd_check)

    gen = sub.add_parser("generate", help="fill official notices and certificates")
    gen.add_argument("kind")
    gen.add_argument("--program", required=True)
    gen.add_argument("--data", required=True, nargs="+", help="RECORD.json (several for a batch)")
    gen.add_argument("-o", "--output", required=True)
    gen.add_argument(
        "--force",
        action="store_true",
        help="issue an approval even though checks fail or fields are marked for review (they are listed)",
    )
    gen.set_defaults(func=_cmd_generate)

    exp = sub.add_parser("export", help="exports for other offices")
    exp_sub = exp.add_subparsers(dest="export_command", required=True)
    mi = exp_sub.add_parser("ministry", help="gifts approved in a period, for 総務省 (XLSX and CSV)")
    mi.add_argument("--program", required=True)
    mi.add_argument("--from", dest="date_from", type=_iso_date, required=True, help="first approval day (YYYY-MM-DD)")
    mi.add_argument("--to", dest="date_to", type=_iso_date, required=True, help="last approval day (YYYY-MM-DD)")
    mi.add_argument("-o", "--output", default=".", help="directory for the two files")
    mi.set_defaults(func=_cmd_export_ministry)

    pg = sub.add_parser("purge", help="destroy personal data past its program's retention period")
    pg.add_argument("--dry-run", action="store_true", help="count what would be destroyed, change nothing")
    pg.add_argument("--today", type=_iso_date, help="the day to judge periods by (YYYY-MM-DD; default today)")
    pg.set_defaults(func=_cmd_purge)

    sv = sub.add_parser("serve", help="start the web service and a worker")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.set_defaults(func=_cmd_serve)
    return parser


def _say(message: str) -> None:
    """One line on stderr, whatever it holds (a file name's undecodable bytes, newlines)."""
    from extract.ingest import safe_name

    line = " ".join(safe_name(message).split())
    try:
        print(f"madoguchi: {line}", file=sys.stderr)
    except UnicodeEncodeError:  # a terminal that cannot show Japanese
        print(f"madoguchi: {line.encode('ascii', 'backslashreplace').decode('ascii')}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    if args.command in ("extract", "check"):
        # what the readers log (a damaged page skipped, a cache entry recomputed) is for a
        # service's log, not the terminal: stderr holds the one line of a failure, or nothing
        import logging

        if not logging.getLogger().handlers:
            logging.getLogger().addHandler(logging.NullHandler())
    if getattr(args, "budget", None):
        import os

        from extract.ingest import ENV_BUDGET

        os.environ[ENV_BUDGET] = args.budget
    try:
        if args.command in ("extract", "check"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a library's warning is no line of ours
                return func(args)
        return func(args)
    except MadoguchiError as exc:
        _say(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:
        _say("メモリが足りません / Out of memory reading the input (set a smaller --budget or a larger machine)")
        return 2
    except OSError as exc:
        # the file system, anywhere (an output that cannot be written, a disk full, a file
        # that vanished between two looks): one line, as bad input
        where = f": {exc.filename}" if exc.filename else ""
        _say(f"{exc.strerror or type(exc).__name__}{where}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
