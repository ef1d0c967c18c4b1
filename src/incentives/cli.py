"""Command line: evaluate a profile, list schemes, look up rates and deadlines, print JSON Schemas, serve, batch.

Kept on argparse and lazy imports so `incentives evaluate` starts fast (no polars, FastAPI or SQLAlchemy here).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        # the messages of our own argument types are already in both languages: say them once
        _fail([f"参数错误 / usage error: {message}"])


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        print(line, file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        # 2026-02-30 has the right form: saying it is not YYYY-MM-DD would send the user looking at the format
        from .dates import written_as_iso_day

        if written_as_iso_day(text):
            raise argparse.ArgumentTypeError(
                f"“{text}”不是真实存在的日期（格式 YYYY-MM-DD 无误，但没有这一天）/ '{text}' is not a real date "
                f"(the YYYY-MM-DD form is right, but there is no such day)") from None
        raise argparse.ArgumentTypeError(f"“{text}”不是 YYYY-MM-DD 日期 / '{text}' is not a YYYY-MM-DD date") from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _catalogue():
    from .schemes import SchemeFileError, catalogue

    try:
        return catalogue()
    except SchemeFileError as error:
        _fail(["方案数据文件有误 / broken scheme data:", str(error)])


# --- commands -----------------------------------------------------------------------------------------------


def cmd_schemes(args: argparse.Namespace) -> int:
    if args.what == "schema":
        from .scheme_files import json_schema

        _print_json(json_schema())
        return 0
    cat = _catalogue()
    rows = []
    for scheme in cat.schemes:
        document = cat.document_of(scheme.id)
        first = min(v.from_ for v in scheme.versions)
        ends = [v.until for v in scheme.versions]
        last = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
        rows.append({
            "id": scheme.id,
            "title_zh": scheme.title_zh,
            "title_en": scheme.title_en,
            "kind": scheme.kind,
            "document": document.number_zh,
            "clause": scheme.clause_zh,
            "in_force": {"from": first.isoformat(), "until": last.isoformat() if last else None},
            "file": cat.scheme_files[scheme.id],
        })
    if args.format == "json":
        _print_json({"rules_version": cat.rules_version, "schemes": rows})
    else:
        for row in rows:
            until = row["in_force"]["until"] or "—"
            title = row["title_zh"] if args.lang == "zh" else row["title_en"]
            print(f"{row['id']:<40} {row['in_force']['from']} … {until:<10}  {title}  [{row['document']} {row['clause']}]")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .profile import loads_exact

    path = Path(args.profile)
    try:
        text = sys.stdin.read() if args.profile == "-" else path.read_bytes()
    except OSError as error:
        _fail([f"无法读取文件 {path}：{error.strerror} / cannot read {path}: {error.strerror}"])
    cat = _catalogue()
    from .evaluate import evaluate, parse_for_evaluation
    from .report import evaluation_json, evaluation_text

    try:
        profile = parse_for_evaluation(loads_exact(text), cat)
    except InputError as error:
        _fail([problem.line() for problem in error.problems])

    evaluation = evaluate(profile, args.as_of or date.today(), cat)
    if args.format == "json":
        sys.stdout.write(evaluation_json(evaluation))
    else:
        sys.stdout.write(evaluation_text(evaluation, args.lang))
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    from .calculators.rate_table import RateLookupError, find_tool, rate_on

    cat = _catalogue()
    try:
        tool = find_tool(cat.rates, args.tool)
        print(rate_on(tool, args.tenor, args.on))
    except RateLookupError as error:
        _fail([f"{error.zh} / {error.en}"])
    return 0


def cmd_deadline(args: argparse.Namespace) -> int:
    from .calculators.deadline import deadline_for_rule, deadline_rules
    from .errors import CalendarNotPublished

    cat = _catalogue()
    rules = deadline_rules(cat)
    rule = rules.get(args.rule)
    if rule is None:
        known = ", ".join(rules)
        _fail([f"未知的期限规则“{args.rule}”，可选：{known} / unknown deadline rule '{args.rule}'; known: {known}"])
    try:
        answer = deadline_for_rule(rule, args.event_date)
    except CalendarNotPublished as error:
        _fail([f"{error.zh} / {error.en}"])
    if args.verbose:
        print(f"event {answer.event} -> deadline {answer.deadline}", file=sys.stderr)
        for number, day in enumerate(answer.working_days, 1):
            print(f"  working day {number}: {day}", file=sys.stderr)
    print(answer.deadline.isoformat())
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    from .profile import profile_json_schema

    _print_json(profile_json_schema())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .web.serving import serve  # not .web.app: the supervising process need not import the app

    serve(host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch.cli import run_batch_command

    return run_batch_command(args)


def cmd_users(args: argparse.Namespace) -> int:
    from .store.cli import run_users_command

    return run_users_command(args)


# --- parser -------------------------------------------------------------------------------------------------


def _add_schemes(sub) -> None:
    schemes = sub.add_parser("schemes", help="list every scheme / 列出全部方案")
    schemes.add_argument("what", nargs="?", choices=["list", "schema"], default="list")
    schemes.add_argument("--format", choices=["text", "json"], default="text")
    schemes.add_argument("--lang", choices=["zh", "en"], default="zh")
    schemes.set_defaults(func=cmd_schemes)


def _add_evaluate(sub) -> None:
    evaluate = sub.add_parser("evaluate", help="evaluate a profile / 评估企业画像")
    evaluate.add_argument("profile", help="profile JSON file, or - for standard input")
    evaluate.add_argument("--as-of", type=_date, default=None, help="evaluation date (default: today)")
    evaluate.add_argument("--format", choices=["json", "text"], default="json")
    evaluate.add_argument("--lang", choices=["zh", "en"], default="zh")
    evaluate.set_defaults(func=cmd_evaluate)


def _add_rate(sub) -> None:
    rate = sub.add_parser("rate", help="PBoC tool rate on a date / 再贷款利率")
    rate.add_argument("tool")
    rate.add_argument("--tenor", choices=["3m", "6m", "1y"], default="1y")
    rate.add_argument("--on", type=_date, required=True)
    rate.set_defaults(func=cmd_rate)


def _add_deadline(sub) -> None:
    deadline = sub.add_parser("deadline", help="deadline for an event / 截止日")
    deadline.add_argument("rule")
    deadline.add_argument("--event-date", type=_date, required=True)
    deadline.add_argument("--verbose", action="store_true", help="list the working days counted (stderr)")
    deadline.set_defaults(func=cmd_deadline)


def _add_profile(sub) -> None:
    profile = sub.add_parser("profile", help="profile JSON Schema / 画像的 JSON Schema")
    profile.add_argument("what", choices=["schema"])
    profile.set_defaults(func=cmd_profile)


def _add_serve(sub) -> None:
    serve = sub.add_parser("serve", help="run the web app / 启动网站")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None,
                       help="worker processes (default: INCENTIVES_WEB_WORKERS, else the CPU count capped at 2) / 进程数")
    serve.set_defaults(func=cmd_serve)


def _add_batch(sub) -> None:
    batch = sub.add_parser("batch", help="batch evaluation for consultants / 批量评估")
    batch_sub = batch.add_subparsers(dest="batch_command", required=True, parser_class=_Parser)
    template = batch_sub.add_parser("template", help="write a blank input workbook / 生成模板")
    template.add_argument("output", help="the .xlsx to write / 模板文件（.xlsx）")
    template.add_argument("--force", action="store_true", help="replace an existing file / 覆盖已有文件")
    run = batch_sub.add_parser(
        "run", help="evaluate a workbook, CSV folder or Parquet folder / 批量运行",
        description="INPUT: an .xlsx workbook (sheets 企业/项目/贷款/已获资助, or enterprises/projects/loans/awards); "
                    "a folder or .zip of CSV or Parquet files named after those tables (企业.csv or enterprises.csv, "
                    "...); or one CSV or Parquet file, read as the enterprises table. CSV may be UTF-8 (with or "
                    "without BOM) or GBK/GB18030: detected and reported.")
    run.add_argument("input")
    run.add_argument("-o", "--output", required=True,
                     help="results: an .xlsx, or a folder for csv and parquet; earlier results there are replaced, "
                          "anything else is kept / 结果文件或文件夹（以前的结果会被替换，其他的保留）")
    run.add_argument("--force", action="store_true",
                     help="replace whatever is at the output, not only earlier results / 覆盖输出处的任何文件")
    run.add_argument("--as-of", type=_date, default=None, help="evaluation date YYYY-MM-DD (default: today) / 评估日")
    run.add_argument("--format", choices=["xlsx", "csv", "parquet"], default=None,
                     help="output format (default xlsx, one workbook; csv and parquet write a folder: "
                          "-o results/ --format csv)")
    run.add_argument("--engine", choices=["local", "dask", "dask-local"], default="local")
    run.add_argument("--scheduler", default=None, help="Dask scheduler address, with --engine dask")
    run.add_argument("--chunk-size", type=int, default=None,  # see batch/chunks.py (not imported: --help stays fast)
                     help="enterprises evaluated at a time, which bounds memory (default: 500000 for an input read "
                          "whole, 200000 for one split into buckets on disk)")
    batch.set_defaults(func=cmd_batch)


def _add_users(sub) -> None:
    from .store.cli import add_users_parser  # argparse only: SQLAlchemy loads when the command runs

    add_users_parser(sub).set_defaults(func=cmd_users)


# every command in the order `incentives --help` lists them
_COMMANDS = {
    "schemes": _add_schemes,
    "evaluate": _add_evaluate,
    "rate": _add_rate,
    "deadline": _add_deadline,
    "profile": _add_profile,
    "serve": _add_serve,
    "batch": _add_batch,
    "users": _add_users,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; or, given the command being run, the same parser with only that command in it.
    Parsing that command's arguments gives the same result and the same messages either way, and a run of
    `incentives evaluate` does not pay for building the parsers of the other commands."""
    parser = _Parser(prog="incentives", description="政策计算器 / policy incentives calculator")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, add in _COMMANDS.items():
        if command is None or command == name:
            add(sub)
    return parser


def parse_arguments(words: list[str]) -> argparse.Namespace:
    """build_parser().parse_args(words), building only the parser of the command being run when that suffices."""
    command = words[0] if words and words[0] in _COMMANDS else None  # anything else needs the whole parser
    args, unknown = build_parser(command).parse_known_args(words)
    if unknown:  # reported by the top-level parser, whose usage line lists every command: use the whole one
        args = build_parser().parse_args(words)
    return args


# commands that run for long (a server, a whole client list, the database layer): the garbage collector runs
_LONG_RUNNING = frozenset({"serve", "batch", "users"})
_freezing_at_exit = False


def _freeze_at_exit() -> None:
    """Have the objects still alive at exit skipped by the collections Python runs while shutting down.

    What is alive then is mostly pydantic's model classes and the catalogue: no garbage, but walking them all was
    ~6% of an `incentives evaluate` run. gc.freeze() moves them out of the collector's sight; memory goes back to
    the system when the process ends either way."""
    global _freezing_at_exit
    if not _freezing_at_exit:
        atexit.register(gc.freeze)
        _freezing_at_exit = True


def main(argv: list[str] | None = None) -> int:
    # Starting a command creates many long-lived objects (pydantic's model classes, the scheme catalogue) and
    # almost no reference cycles, so the cyclic garbage collector's passes over them are pure cost. It stays off
    # for the short commands, whose inputs are bounded, and is on again for the long-running ones and when main()
    # returns (tests call it in-process).
    collecting = gc.isenabled()
    gc.disable()
    try:
        # the command line uses no pydantic plugins and skips looking for them (tens of milliseconds of a run)
        from .plugin_scan import without_plugins

        without_plugins()
        args = parse_arguments(sys.argv[1:] if argv is None else argv)
        if args.command in _LONG_RUNNING:
            if collecting:
                gc.enable()
        else:
            _freeze_at_exit()
        try:
            return args.func(args)
        except BrokenPipeError:
            return 0
    finally:
        if collecting:
            gc.enable()


if __name__ == "__main__":
    raise SystemExit(main())
