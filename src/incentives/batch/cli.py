"""`incentives batch template|run`: the command-line face of batch mode (exit 2 for an unusable input)."""

from __future__ import annotations

import argparse
import errno
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


# why a file could not be read or written, in both languages: the system's own words (in English, whatever the
# language asked for) are shown only for an error not listed here
_OS_REASONS = {code: reason for code, reason in (
    (errno.EACCES, ("没有权限", "permission denied")),
    (errno.EPERM, ("没有权限", "permission denied")),
    (errno.ENOSPC, ("磁盘空间已满", "the disk is full")),
    (getattr(errno, "EDQUOT", None), ("超出磁盘配额", "the disk quota is used up")),
    (errno.EROFS, ("文件系统是只读的", "the file system is read-only")),
    (errno.EISDIR, ("这是一个文件夹，不是文件", "it is a folder, not a file")),
    (errno.ENOTDIR, ("路径中有一段是文件，不是文件夹", "part of the path is a file, not a folder")),
    # the folders on the way are made as needed: one that exists as a file stops that
    (errno.EEXIST, ("这里要建文件夹，但已有同名的文件", "a folder is needed here, but a file of that name exists")),
    (errno.ENAMETOOLONG, ("文件名太长", "the file name is too long")),
) if code is not None}


def _os_reason(error: OSError, writing: bool) -> tuple[str, str]:
    """(zh, en) reason for a file error: a message half in the system's English would leave half the users guessing."""
    if error.errno == errno.ENOENT:  # writing, only a missing folder on the way makes a file not found
        return ("文件夹不存在", "the folder does not exist") if writing else ("文件不存在", "the file does not exist")
    if error.errno in _OS_REASONS:
        return _OS_REASONS[error.errno]
    text = error.strerror or str(error) or type(error).__name__
    return f"系统提示：{text}", text


def _os_failure(error: OSError, name: str, writing: bool) -> int:
    zh, en = _os_reason(error, writing)
    if writing:
        return _fail(f"无法写入 {name}：{zh}", f"cannot write {name}: {en}")
    return _fail(f"无法读取 {name}：{zh}", f"cannot read {name}: {en}")


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
            return _os_failure(error, args.output, writing=True)
        print(f"模板已写入 / template written: {args.output}", file=sys.stderr)
        return EXIT_OK
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from .dask_engine import ClusterMismatch
    from .readers import UnusableInput
    from .runner import Job, misnamed_output, run_batch
    from .writers import format_of

    if args.engine == "dask" and not args.scheduler:
        return _fail("--engine dask 需要 --scheduler 地址", "--engine dask needs --scheduler ADDRESS")
    if args.chunk_size is not None and args.chunk_size < 1:
        return _fail("--chunk-size 必须是正整数", "--chunk-size must be a positive integer")
    output = Path(args.output)
    # a trailing slash says "a folder" here only: the Path drops it
    problem = misnamed_output(output, format_of(output, args.format),
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
            name = str(error.filename or args.output)
            return _os_failure(error, name, writing=not _within(Path(name), Path(args.input)))
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


def _within(path: Path, top: Path) -> bool:
    """Whether `path` is `top` or in it: a file of the input is read, anything else is written (results, work files)."""
    path, top = Path(os.path.abspath(path)), Path(os.path.abspath(top))
    return path == top or top in path.parents


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
        labels = {"read": "读取 / reading", "check": "检查 / checking", "partition": "分桶 / partitioning",
                  "evaluate": "评估 / evaluating", "write": "写出 / writing"}
        self.bar.update(self.task, completed=done, description=labels.get(stage, stage))

    def __exit__(self, *exc) -> None:
        if self.task is not None:
            self.bar.stop()
