"""The committed example repository (examples/models) is exactly what scripts/make_models.py
generates, so `make serve` serves the models these tests check."""

import filecmp
import subprocess
import sys

from conftest import MAKE_MODELS, REPO_ROOT


def test_committed_examples_match_the_generator_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(MAKE_MODELS), "--examples", str(tmp_path)], check=True,
                   stdout=subprocess.DEVNULL)
    examples = REPO_ROOT / "examples" / "models"
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert generated, "the generator wrote nothing"
    stale = [str(p) for p in generated if not (examples / p).is_file()
             or not filecmp.cmp(examples / p, tmp_path / p, shallow=False)]
    assert not stale, (f"examples/models is stale ({stale}); regenerate with "
                       f"/usr/bin/python3 scripts/make_models.py --examples examples/models")


def test_generator_rewrites_nothing_when_run_twice(tmp_path):
    subprocess.run([sys.executable, str(MAKE_MODELS), "--test", str(tmp_path)], check=True,
                   stdout=subprocess.DEVNULL)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    out = subprocess.run([sys.executable, str(MAKE_MODELS), "--test", str(tmp_path)], check=True,
                         capture_output=True, text=True).stdout
    assert " 0 written" in out, out
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == mtimes
