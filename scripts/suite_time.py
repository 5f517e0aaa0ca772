"""Wall time of the test suite at two commits, measured on this machine in one run.

Each commit is cloned from the repository into a temporary directory and given its own virtual environment with
its own ``pip install -e '.[test]'``, so each side runs with exactly the dependencies and the settings (pytest
addopts included) that its commit declares. A side's test command is one or more pytest passes (the README's: at
de9a836 one, later a second pass for the tests marked ``alone``); a run's time is that of all its passes. The two
test commands run alternately, before, after, before, after..., so a change in the machine's load touches both sides
alike. The medians and their ratio (before / after: how many times faster) are printed last as one JSON line. It
exits 1 when no run of either side finished.

    python scripts/suite_time.py [--before de9a836] [--after HEAD] [--runs 3] [--repo /work/main]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUIET = "-q -p no:cacheprovider"
BEFORE_PASSES = QUIET
AFTER_PASSES = f"{QUIET};{QUIET} -n 0 -m alone"
NO_TESTS = 5  # pytest's exit code when a pass selects nothing, which is no failure here
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|errors?|deselected)\b.*?) in [\d.]+s", re.MULTILINE)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(ROOT), help="repository to clone (default: this one)")
    parser.add_argument("--before", default="de9a836", help="the commit measured first (default: de9a836)")
    parser.add_argument("--after", default="HEAD", help="the commit compared with it (default: HEAD)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (default: 3)")
    for side, passes in (("before", BEFORE_PASSES), ("after", AFTER_PASSES)):
        parser.add_argument(
            f"--{side}-passes",
            default=passes,
            help=f"the {side} side's pytest passes: arguments after `python -m pytest`, passes separated by ';' "
            "(default: %(default)s)",
        )
    parser.add_argument(
        "--same-files",
        action="store_true",
        help="run only the test files the before commit has, on both sides (the same tests, apart from those added "
        "to them since), so the suite's growth does not count",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one run may take (default: 1800)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the virtual environments")
    parser.add_argument("--keep", action="store_true", help="keep the clones and environments (printed)")
    return parser.parse_args(argv)


def git(*args: str, cwd: str | Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def prepare(repo: str, commit: str, where: Path, python: str) -> Path:
    """Clone ``repo`` at ``commit`` into ``where`` with a venv holding its test dependencies; returns its python."""
    git("clone", "-q", repo, str(where))
    git("checkout", "-q", commit, cwd=where)
    subprocess.run([python, "-m", "venv", str(where / ".venv")], check=True)
    venv_python = where / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(venv_python), "-m", "pip", "install", "-q", "-e", ".[test]"], cwd=where, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"pip install in {where} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return venv_python


def suite_files(repo: str, commit: str) -> list[str]:
    """The test files (tests/test_*.py) of ``commit``."""
    names = git("ls-tree", "--name-only", commit, "tests/", cwd=repo).splitlines()
    return sorted(n for n in names if Path(n).name.startswith("test_") and n.endswith(".py"))


def run_suite(python: Path, clone: Path, passes: str, timeout: float, files: list[str]) -> dict:
    """One run of the test command in ``clone``, every pass: wall seconds, the worst exit code, pytest's summary
    lines and the failed tests."""
    started = time.perf_counter()
    codes: list[int] = []
    summaries: list[str] = []
    failed: set[str] = set()
    for args in passes.split(";"):
        try:
            done = subprocess.run(
                [str(python), "-m", "pytest", *args.split(), *files],
                cwd=clone,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"seconds": None, "exit": None, "summary": f"timed out after {timeout:.0f}s", "failed": []}
        codes.append(0 if done.returncode == NO_TESTS else done.returncode)
        found = SUMMARY.findall(done.stdout)
        summaries.append(found[-1] if found else "")
        failed |= {line.split()[1] for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))}
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 1),
        "exit": max(codes),
        "summary": " + ".join(summaries),
        "failed": sorted(failed),
    }


def median(runs: list[dict]) -> float | None:
    times = [r["seconds"] for r in runs if r["seconds"] is not None]
    return round(statistics.median(times), 1) if times else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    shas = {side: git("rev-parse", getattr(args, side), cwd=args.repo) for side in ("before", "after")}
    work = Path(tempfile.mkdtemp(prefix="suite-time-"))
    try:
        pythons = {}
        for side, sha in shas.items():
            print(f"preparing {side} ({sha[:10]}) in {work / side}", file=sys.stderr, flush=True)
            pythons[side] = prepare(args.repo, sha, work / side, args.python)
        files = suite_files(args.repo, shas["before"]) if args.same_files else []
        runs: dict[str, list[dict]] = {"before": [], "after": []}
        for n in range(args.runs):
            for side in ("before", "after"):
                result = run_suite(pythons[side], work / side, getattr(args, f"{side}_passes"), args.timeout, files)
                runs[side].append(result)
                print(f"run {n + 1} {side}: {result}", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    before, after = median(runs["before"]), median(runs["after"])
    figures = {
        "before": shas["before"][:10],
        "after": shas["after"][:10],
        "runs": args.runs,
        "before_passes": args.before_passes,
        "after_passes": args.after_passes,
        "same_files": args.same_files,
        "before_s": [r["seconds"] for r in runs["before"]],
        "after_s": [r["seconds"] for r in runs["after"]],
        "before_median_s": before,
        "after_median_s": after,
        "ratio": round(before / after, 2) if before and after else None,
        "before_exit": [r["exit"] for r in runs["before"]],
        "after_exit": [r["exit"] for r in runs["after"]],
        "before_summary": runs["before"][-1]["summary"] if runs["before"] else "",
        "after_summary": runs["after"][-1]["summary"] if runs["after"] else "",
        "before_failed": sorted({f for r in runs["before"] for f in r["failed"]}),
        "after_failed": sorted({f for r in runs["after"] for f in r["failed"]}),
    }
    print(json.dumps(figures))
    return 0 if before and after else 1


if __name__ == "__main__":
    raise SystemExit(main())
