"""`incentives batch template|run`: the command-line face of batch mode (exit 2 for an unusable input)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from ..schemes import SchemeFileError

EXIT_OK = 0
EXIT_UNUSABLE = 2
PROGRESS_THRESHOLD = 10_000  # enterprises: below this a run takes about a second and needs no bar


def _fail(zh: str, en: str) -> int:
    print(f"错误：{zh}\nerror: {en}", file=sys.stderr)
    return EXIT_UNUSABLE


def run_batch_command(args: argparse.Namespace) -> int:
    if args.batch_command == "template":
        from .template import write_template

        output = Path(args.output)
        if output.suffix.lower() != ".xlsx":
            return _fail(f"模板是 .xlsx 工作簿：请用 .xlsx 结尾的文件名（而不是 {output.name}）",
                         f"the template is an .xlsx workbook: give a name ending in .xlsx (not {output.name})")
        if output.exists() and not getattr(args, "force", False):
            return _fail(f"{output.name} 已存在，未覆盖（可能是已填写的工作簿）；换一个名字，或加 --force 覆盖",
                         f"{output.name} exists and was left as it is (it may be a filled-in workbook); give "
                         f"another name, or --force to replace it")
        try:
            write_template(output)
        except OSError as error:
            return _fail(f"无法写入 {args.output}：{error.strerror}", f"cannot write {args.output}: {error.strerror}")
        print(f"模板已写入 / template written: {args.output}", file=sys.stderr)
        return EXIT_OK
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from .dask_engine import ClusterMismatch
    from .readers import UnusableInput
    from .runner import Job, run_batch
    from .writers import format_of, output_problem

    if args.engine == "dask" and not args.scheduler:
        return _fail("--engine dask 需要 --scheduler 地址", "--engine dask needs --scheduler ADDRESS")
    if args.chunk_size is not None and args.chunk_size < 1:
        return _fail("--chunk-size 必须是正整数", "--chunk-size must be a positive integer")
    output = Path(args.output)
    # a trailing slash says "a folder" here only: the Path drops it
    problem = output_problem(output, format_of(output, args.format),
                             is_folder=args.output.endswith(("/", os.sep)) or output.is_dir())
    if problem:
        return _fail(*problem)
    job = Job(Path(args.input), Path(args.output), args.as_of or date.today(), args.format, args.chunk_size,
              args.engine, args.scheduler, force=getattr(args, "force", False))
    with _progress_bar() as progress:
        try:
            info = run_batch(job, progress=progress)
        except UnusableInput as error:
            return _fail(error.zh, error.en)
        except ImportError as error:
            return _fail(f"缺少依赖：{error.name}（Dask 引擎需要 pip install 'incentives[dask]'）",
                         f"missing dependency: {error.name} (the Dask engine needs pip install 'incentives[dask]')")
        except ClusterMismatch as error:
            return _fail(error.zh, error.en)
        except SchemeFileError as error:
            return _fail(f"方案数据文件有误：{error}", f"broken scheme data: {error}")
        except OSError as error:
            name = error.filename or args.output
            return _fail(f"无法读写 {name}：{error.strerror}", f"cannot read or write {name}: {error.strerror}")
    counts = info.counts
    for zh, en in info.notes:
        print(f"{zh} / {en}", file=sys.stderr)
    # rows of rejected enterprises and warnings are listed in 错误 too, but are not errors: said apart
    more_zh = more_en = ""
    if counts.skipped:
        more_zh += f"，另有 {counts.skipped} 行因企业被拒绝未评估"
        more_en += f", and {_counted(counts.skipped, 'row')} of rejected enterprises not evaluated"
    if counts.warnings:
        more_zh += f"；提醒 {counts.warnings} 条（已评估，请核对）"
        more_en += f"; {_counted(counts.warnings, 'warning')} (evaluated, please check)"
    print(f"企业 {counts.enterprises_in} 家：已评估 {counts.evaluated}，已拒绝 {counts.rejected}；错误 {counts.errors} 条"
          f"{more_zh} / enterprises in {counts.enterprises_in}: evaluated {counts.evaluated}, rejected "
          f"{counts.rejected}; {_counted(counts.errors, 'error')}{more_en} -> {args.output} ({info.seconds:.1f} s)",
          file=sys.stderr)
    return EXIT_OK


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class _progress_bar:
    """A rich progress bar on stderr, shown once a run turns out to be long."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=False)
        self.task = None
        return self.update

    def update(self, done: int, total: int, stage: str) -> None:
        if total < PROGRESS_THRESHOLD:
            return
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("batch", total=total)
        labels = {"read": "读取 / reading", "partition": "分桶 / partitioning", "evaluate": "评估 / evaluating",
                  "write": "写出 / writing"}
        self.bar.update(self.task, completed=done, description=labels.get(stage, stage))

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.bar.stop()
