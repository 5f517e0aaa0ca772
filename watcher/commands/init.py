"""``watcher init [DIR]``: write the starter configuration (the package's copy of ``config/``) into a directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

STARTER_FILES = ("sources.toml", "topics.toml", "notifiers.toml.example", "relevance-model.json")


def starter_file(name: str) -> bytes:
    """The shipped starter file ``name`` (one of STARTER_FILES, or the demo's sample feed)."""
    return (resources.files("watcher") / "starter" / name).read_bytes()


@dataclass
class InitResult:
    """What ``init_config`` did: the files written, or the existing files that stopped it."""

    directory: Path
    written: list[Path] = field(default_factory=list)
    existing: list[Path] = field(default_factory=list)


def init_config(directory: Path, *, force: bool = False) -> InitResult:
    """Write the starter files into ``directory`` (made absolute); with files already there, write nothing unless
    ``force``."""
    target = Path(directory).expanduser().resolve()
    result = InitResult(target)
    result.existing = [target / name for name in STARTER_FILES if (target / name).exists()]
    if result.existing and not force:
        return result
    target.mkdir(parents=True, exist_ok=True)
    for name in STARTER_FILES:
        (target / name).write_bytes(starter_file(name))
        result.written.append(target / name)
    return result


def refusal_lines(result: InitResult) -> list[str]:
    """Why nothing was written, and how to go on."""
    names = ", ".join(str(p) for p in result.existing)
    verb = "exists" if len(result.existing) == 1 else "exist"
    return [
        f"error: {names} {verb} already; nothing was written.",
        f"Edit the files in {result.directory}, or run `watcher init --force {result.directory}` to replace "
        "them with the starter files (your edits would be lost).",
    ]


def next_steps(result: InitResult) -> list[str]:
    """The lines printed after a successful init: what was written and what to edit next."""
    d = result.directory
    config = f"--config {d}"
    return [
        *(f"wrote {p}" for p in result.written),
        "",
        "Next:",
        f"  1. Topics: {d / 'topics.toml'} holds the keyword topics (smuggling, borders, migration, policing);"
        " add or remove terms there.",
        f"  2. Sources: {d / 'sources.toml'} lists what is polled; set enabled = false on what you do not want,"
        " or add a [[source]].",
        f"  3. Check the files: watcher {config} check-config",
        f"  4. See a poll without sending anything: watcher {config} once --dry-run"
        " (and `watcher demo` for the whole chain on a sample feed)",
        f"  5. Run it: WATCHER_TELEGRAM_TOKEN=<token from @BotFather> watcher {config} run"
        " (without a token, alerts are printed)",
        f"  Optional: copy {d / 'notifiers.toml.example'} to {d / 'notifiers.toml'} for webhooks, email or apprise.",
    ]
