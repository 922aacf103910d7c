"""The README's install, in a fresh venv: what it puts there."""

from __future__ import annotations

import subprocess

import pytest

from acceptance.conftest import VERSION

pytestmark = pytest.mark.slow


def test_the_venv_holds_the_xlt_command_and_lang2vecs_own_script(installed):
    assert (installed.bin / "xlt").is_file()
    # the script that shadowed the lang2vec package for the console script: the trap the studies walk into
    assert (installed.bin / "lang2vec.py").is_file()


def test_the_venv_imports_its_own_xlt_with_its_package_data(installed):
    where = subprocess.check_output(
        [str(installed.bin / "python"), "-c", "import xlt, pathlib; print(pathlib.Path(xlt.__file__).parent)"],
        env=installed.env(),
        text=True,
    ).strip()
    assert where.startswith(str(installed.venv)), f"the venv imports xlt from {where}"
    assert (installed.venv.joinpath(where) / "configs" / "demo.yaml").is_file()


def test_the_installed_command_prints_its_version(installed, tmp_path):
    ended = installed.run("--version", cwd=tmp_path, log=tmp_path / "log")
    assert (ended.code, ended.log) == (0, f"xlt {VERSION}\n")
