"""`pip install` of the built wheel (not editable) works on its own, with the scheme data inside the package.

The fresh venv gets its dependencies from .venv's site-packages through a plain path line in a .pth file: a
path line does not process that directory's own .pth files, so the editable install of `incentives` in .venv is
not picked up, and everything `incentives` must come from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from incentives.resources import examples_dir

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2026-06-01"


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "INCENTIVES_SCHEMES_DIR", "VIRTUAL_ENV")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the freshly built wheel installed in it; returns its bin directory."""
    root = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(REPO)], root)
    assert built.returncode == 0, built.stderr
    wheel = next((root / "dist").glob("incentives-*.whl"))
    venv = root / "venv"
    made = _run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], root)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        root).stdout.strip())
    (purelib / "dependencies-from-dev-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                 str(wheel)], root)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


@pytest.mark.slow
def test_the_installed_package_and_its_data_come_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    probe = _run([str(installed / "python"), "-c",
                  "import incentives, incentives.resources as r; print(incentives.__file__); "
                  "print(r.schemes_dir()); print(r.examples_dir())"], tmp_path)
    assert probe.returncode == 0, probe.stderr
    package_file, schemes, examples = (Path(line) for line in probe.stdout.splitlines())
    venv = installed.parent.resolve()
    for path in (package_file, schemes, examples):
        assert path.resolve().is_relative_to(venv), path
        assert not path.resolve().is_relative_to(REPO)
    assert schemes.name == "_schemes" and (schemes / "shanghai" / "g60-2025-15.yaml").is_file()


@pytest.mark.slow
def test_the_installed_cli_evaluates_an_example_like_the_development_tree(installed: Path, tmp_path: Path) -> None:
    example = tmp_path / "profile.json"
    shutil.copy(examples_dir() / "songjiang-satellite.json", example)
    result = _run([str(installed / "incentives"), "evaluate", "profile.json", "--as-of", AS_OF], tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["total_fen"] > 0
    development = _run([str(Path(sys.executable).with_name("incentives")), "evaluate", "profile.json", "--as-of",
                        AS_OF], tmp_path)
    assert result.stdout == development.stdout  # same data, same rules_version, same bytes


@pytest.mark.slow
def test_the_installed_cli_lists_schemes_and_rates(installed: Path, tmp_path: Path) -> None:
    listed = _run([str(installed / "incentives"), "schemes", "--format", "json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "gd/loan-interest-subsidy" in {row["id"] for row in json.loads(listed.stdout)["schemes"]}
    rate = _run([str(installed / "incentives"), "rate", "tech-relending", "--tenor", "1y", "--on", "2026-01-19"],
                tmp_path)
    assert rate.stdout == "0.0125\n"
