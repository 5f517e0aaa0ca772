"""First steps: `watcher init` writes the shipped starter configuration, the built wheel carries it, `watcher demo`
shows an alert on a sample feed, and the options of the command line go before or after the command."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from watcher.cli import build_parser
from watcher.commands.init import STARTER_FILES, init_config, starter_file

STARTER = ROOT / "watcher" / "starter"


@pytest.mark.parametrize("name", STARTER_FILES)
def test_starter_files_are_the_shipped_config(name):
    """The package's starter copy is byte for byte the repository's config/ file (edit config/, then copy it)."""
    assert (STARTER / name).read_bytes() == (ROOT / "config" / name).read_bytes(), (
        f"watcher/starter/{name} differs from config/{name}: cp config/{name} watcher/starter/"
    )


def test_init_writes_absolute_paths_and_refuses_to_overwrite(tmp_path):
    """init writes the three files, prints absolute paths and the next steps, and refuses a second time."""
    first = run_cli(["init", "cfg"], tmp_path)
    target = (tmp_path / "cfg").resolve()
    assert first.returncode == 0, first.stderr
    for name in STARTER_FILES:
        assert (target / name).read_bytes() == starter_file(name)
        assert f"wrote {target / name}\n" in first.stdout
    assert f"watcher --config {target} check-config" in first.stdout
    (target / "topics.toml").write_text("# my edits\n", encoding="utf-8")
    again = run_cli(["init", "cfg"], tmp_path)
    assert again.returncode == 1
    assert str(target / "topics.toml") in again.stderr and "--force" in again.stderr
    assert (target / "topics.toml").read_text(encoding="utf-8") == "# my edits\n"


def test_init_force_replaces_and_the_result_passes_check_config(tmp_path):
    """--force writes the starter files over edited ones, and check-config accepts what init wrote."""
    target = tmp_path / "cfg"
    init_config(target)
    (target / "sources.toml").write_text("broken = [", encoding="utf-8")
    assert init_config(target).written == []
    assert len(init_config(target, force=True).written) == len(STARTER_FILES)
    check = run_cli(["check-config", "--config", str(target)], tmp_path)
    assert check.returncode == 0, check.stderr


def test_init_defaults_to_the_config_option_given_after_the_command(tmp_path):
    """`watcher init --config DIR -v` writes into DIR: the global options also work after the command."""
    done = run_cli(["init", "--config", "elsewhere", "-v"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "elsewhere" / "sources.toml").exists()


@pytest.mark.parametrize(
    "argv", [["--config", "D", "-v", "status"], ["status", "--config", "D", "-v"], ["-v", "status", "--config", "D"]]
)
def test_config_and_verbose_before_or_after_the_command(argv):
    """--config and -v parse to the same values wherever they stand."""
    args = build_parser().parse_args(argv)
    assert (args.command, args.config, args.verbose) == ("status", "D", True)


def test_options_left_out_keep_their_defaults():
    """Without --config or -v the values are the defaults, before and after the command alike."""
    args = build_parser().parse_args(["status"])
    assert (args.config, args.verbose) == (None, False)


def test_demo_shows_an_alert_from_the_sample_feed(tmp_path):
    """watcher demo records the sample feed's first poll silently, then alerts on the item added to it."""
    done = run_cli(["demo"], tmp_path, WATCHER_TELEGRAM_TOKEN="123456:not-used-by-the-demo")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(first poll: recorded without alerting)" in done.stdout
    assert done.stderr.count("=== ALERT ===") == 1
    assert "New: Council agrees its position on new rules against migrant smuggling" in done.stderr
    assert "Link: http://127.0.0.1:" in done.stderr
    assert "1 alert delivered" in done.stdout
    assert "demo: the shipped relevance model (relevance-model.json) can also raise smuggling" in done.stdout
    assert not (tmp_path / "data").exists()  # the demo wrote nothing outside its temporary directory
    off = run_cli(["demo"], tmp_path, WATCHER_RELEVANCE_MODEL="0")
    assert off.returncode == 0 and "demo: the relevance model is off (WATCHER_RELEVANCE_MODEL=0)" in off.stdout


def test_demo_matches_with_the_relevance_model_the_service_would_use(tmp_path):
    """The demo's configuration holds the shipped relevance model, read as `watcher run` reads a configuration
    written by `watcher init`: a text the terms miss gets the same model hit from both; WATCHER_RELEVANCE_MODEL=0
    turns it off in the demo as in the service."""
    from watcher.commands.demo import demo_config  # loaded late: as cli.cmd_demo loads it
    from watcher.config import Settings, load_config
    from watcher.matcher import Matcher
    from watcher.models import Item

    item = Item(
        "demo-feed", "1", "Guards stop a group crossing the forest at night near the frontier", "https://e.org/1"
    )
    (tmp_path / "demo").mkdir()
    demo = demo_config(tmp_path / "demo", "http://127.0.0.1:9/feed.xml", Settings(data_dir=tmp_path))
    assert demo.relevance is not None
    init_config(tmp_path / "cfg")
    service = load_config(tmp_path / "cfg", settings=Settings(data_dir=tmp_path), read_model=True)
    found = Matcher(demo.topics, relevance=demo.relevance).match(item)
    assert found == Matcher(service.topics, relevance=service.relevance).match(item)
    assert [(m.topic, m.field) for m in found] == [("borders", "model")]
    assert found[0].terms[0].startswith("relevance model borders 0.")
    off = Settings(data_dir=tmp_path, relevance_model=False)
    assert demo_config(tmp_path / "demo", "http://127.0.0.1:9/feed.xml", off).relevance is None


def test_wheel_contains_the_starter_config(tmp_path):
    """A wheel built from the tree holds the starter files, the demo feed and the compiled message catalogues, named
    eu-council-watcher."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "watcher", src / "watcher", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next((tmp_path / "dist").glob("eu_council_watcher-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (*STARTER_FILES, "demo-feed.xml"):
        assert f"watcher/starter/{name}" in names
    for language in ("fr", "de"):  # the bot's compiled message catalogues, read at run time
        assert f"watcher/locale/{language}/LC_MESSAGES/watcher.mo" in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Name: eu-council-watcher" in text and "License-Expression: AGPL-3.0-or-later" in text
    assert Path(wheel).name.startswith("eu_council_watcher-0.1.0-py3")
