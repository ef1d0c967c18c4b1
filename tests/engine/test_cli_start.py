"""`incentives evaluate` loads only what it uses: no plugin discovery, no python-stdnum for a plain code."""

from __future__ import annotations

import json
import subprocess
import sys

from incentives.resources import examples_dir

_RUN_EVALUATE = """
import contextlib, io, json, sys
from incentives.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["evaluate", sys.argv[1], "--as-of", "2026-06-01"])
loaded = [name for name in ("importlib.metadata", "stdnum", "yaml") if name in sys.modules]
print(json.dumps({"code": code, "loaded": loaded, "total_fen": json.loads(out.getvalue())["total_fen"]}))
"""


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout)


def test_evaluate_skips_plugin_discovery_stdnum_and_yaml() -> None:
    example = examples_dir() / "songjiang-satellite.json"
    assert json.loads(example.read_text(encoding="utf-8"))["enterprise"]["uscc"]  # the check really runs
    answer = _run(_RUN_EVALUATE, str(example))
    assert answer["code"] == 0 and answer["total_fen"] > 0
    assert answer["loaded"] == []


_PLUGINS_BACK_ON = """
import json, os, sys
from incentives.plugin_scan import without_plugins
without_plugins()
from pydantic import BaseModel
class A(BaseModel):
    x: int
stand_in = sys.modules["pydantic.plugin._loader"]
assert "importlib.metadata" not in sys.modules
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "some-plugin-name"  # plugins on again: pydantic's own loader decides
plugins = list(stand_in.get_plugins())
real = sys.modules["pydantic.plugin._loader"]
print(json.dumps({"handed_over": real is not stand_in and "importlib.metadata" in sys.modules,
                  "same_answer": plugins == list(real.get_plugins())}))
"""


def test_the_stand_in_hands_over_when_plugins_are_switched_back_on() -> None:
    answer = _run(_PLUGINS_BACK_ON)
    assert answer == {"handed_over": True, "same_answer": True}


def test_an_explicit_plugin_setting_is_left_alone() -> None:
    import os

    script = ("import os, sys\nfrom incentives.plugin_scan import without_plugins\nwithout_plugins()\n"
              "print('{\"setting\": \"%s\", \"stand_in\": %s}' % (os.environ['PYDANTIC_DISABLE_PLUGINS'], "
              "str('pydantic.plugin._loader' in sys.modules).lower()))")
    answer = _run(script, env={**os.environ, "PYDANTIC_DISABLE_PLUGINS": "other"})
    assert answer == {"setting": "other", "stand_in": False}


_ARGVS = [
    [], ["--help"], ["bogus"], ["--bogus", "evaluate"],
    ["evaluate"], ["evaluate", "--help"], ["evaluate", "p.json"], ["evaluate", "-", "--as-of", "2026-06-01", "--format",
                                                                    "text", "--lang", "en"],
    ["evaluate", "p.json", "--bogus"], ["evaluate", "p.json", "--as-of", "2026-13-01"], ["evaluate", "p.json", "extra"],
    ["evaluate", "p.json", "--format", "xml"], ["schemes"], ["schemes", "schema", "--format", "json"], ["schemes", "x"],
    ["rate", "tech-relending", "--on", "2026-01-19"], ["rate", "t"], ["deadline", "r", "--event-date", "2025-12-31"],
    ["profile", "schema"], ["profile"], ["serve", "--port", "9000"], ["batch"], ["batch", "run", "in", "-o", "out"],
    ["batch", "template", "t.xlsx", "more"], ["users", "token", "a@b.cn"], ["users"],
]


def _outcome(parse, argv, capsys) -> tuple:
    try:
        namespace = parse(argv)
        result = ("ok", {key: (value.__name__ if callable(value) else value) for key, value in vars(namespace).items()})
    except SystemExit as stop:
        result = ("exit", stop.code)
    captured = capsys.readouterr()
    return result, captured.out, captured.err


def test_parsing_with_only_the_command_run_is_the_same_as_with_every_command(capsys, monkeypatch) -> None:
    from incentives import cli

    monkeypatch.setenv("COLUMNS", "100")
    for argv in _ARGVS:
        reduced = _outcome(cli.parse_arguments, argv, capsys)
        whole = _outcome(lambda words: cli.build_parser().parse_args(words), argv, capsys)
        assert reduced == whole, argv
        assert reduced[1] or reduced[2] or reduced[0][0] == "ok"  # every case either parses or says why


def test_collection_is_off_for_a_short_command_and_back_on_after(monkeypatch) -> None:
    import gc

    from incentives import cli

    seen = {}

    def recorder(name):
        def command(args) -> int:
            seen[name] = gc.isenabled()
            return 0
        return command

    monkeypatch.setattr(cli, "cmd_evaluate", recorder("evaluate"))
    monkeypatch.setattr(cli, "cmd_serve", recorder("serve"))
    assert gc.isenabled()
    assert cli.main(["evaluate", "profile.json"]) == 0
    assert gc.isenabled()
    assert cli.main(["serve", "--port", "9"]) == 0
    assert gc.isenabled()
    assert seen == {"evaluate": False, "serve": True}


def test_a_short_command_freezes_the_survivors_at_exit_and_a_long_running_one_does_not(monkeypatch) -> None:
    import atexit
    import gc

    from incentives import cli

    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(cli, "_freezing_at_exit", False)
    monkeypatch.setattr(cli, "cmd_serve", lambda args: 0)
    assert cli.main(["serve"]) == 0
    assert registered == []
    monkeypatch.setattr(cli, "cmd_profile", lambda args: 0)
    assert cli.main(["profile", "schema"]) == 0
    assert cli.main(["profile", "schema"]) == 0
    assert registered == [gc.freeze]  # once per process


def test_evaluate_output_is_complete_when_the_survivors_are_frozen_at_exit() -> None:
    example = examples_dir() / "songjiang-satellite.json"
    done = subprocess.run([sys.executable, "-m", "incentives.cli", "evaluate", str(example), "--as-of", "2026-06-01"],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["total_fen"] > 0 and done.stderr == ""
