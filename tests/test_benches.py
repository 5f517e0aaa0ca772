"""The benchmark scripts stay runnable: each one answers --help and offers --smoke (CI runs the smoke pass; the
tests only read the help, they never run a benchmark)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# bench/_*.py hold code the benches share (bench/_common.py); they are not benches and have no --smoke.
BENCHES = sorted(p for p in ROOT.glob("bench/*.py") if not p.name.startswith("_"))
SCRIPTS = BENCHES + [ROOT / "scripts" / "kill_soak.py", ROOT / "scripts" / "chaos.py"]


def test_there_are_benches():
    """The bench folder holds the scripts the smoke pass loops over."""
    assert len(BENCHES) >= 5


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_offers_smoke(script: Path):
    """The script's --help exits 0 and lists a --smoke option."""
    out = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--smoke" in out.stdout


@pytest.mark.parametrize(
    "option, said",
    [
        (["--rate", "0"], "--rate 0.0: the learning rate must be above 0"),
        (["--l2", "-1"], "--l2 -1.0: the L2"),
        (["--rate-for", "smuggling=0"], "--rate-for smuggling=0: give a topic"),
        (["--rate-for", "smugling=0.3"], "--rate-for smugling=0.3: give a topic"),
        (["--rate-for", "smuggling"], "--rate-for smuggling: give a topic"),
        (["--rate-for", "smuggling=inf"], "--rate-for smuggling=inf: give a topic"),
        (["--rate", "inf"], "--rate inf: the learning rate must be above 0"),
    ],
)
def test_second_signal_refuses_training_settings_that_mean_nothing(option: list[str], said: str):
    """A learning rate of 0 or below (for all topics or one), a topic that does not exist or a negative L2 is refused
    before anything is trained."""
    script = ROOT / "bench" / "second_signal.py"
    out = subprocess.run([sys.executable, str(script), *option], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and said in out.stderr, out.stderr
