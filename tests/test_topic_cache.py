"""`watcher match` reads topics.toml from its cache while the file is unchanged, parses and checks it again after any
edit, ignores (and writes again) an entry that is damaged, skips a directory it cannot write, and can be turned off;
`watcher check-config` never reads the cache. Every run here keeps its cache in the test's own folder."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from tests.conftest import SHIPPED_CONFIG, make_config, run_cli, source_toml
from tests.fakes.feeds import rss
from watcher import topic_cache
from watcher.errors import ConfigError
from watcher.matcher import Topic, topics_from_toml
from watcher.matcher.context import ContextRule
from watcher.settings import read_toml, settings_from_env

TOPICS = """
[[topic]]
id = "migration"
label = "Migration"
terms = ["asylum"]
"""


def config(tmp_path: Path, topics: str = TOPICS) -> Path:
    return make_config(tmp_path / "cfg", source_toml("feed", "http://127.0.0.1:9/feed.xml"), topics)


def match(tmp_path: Path, cfg: Path, *words: str, **env: str):
    return run_cli(["--config", str(cfg), "match", *words], tmp_path, **env)


def entry(tmp_path: Path, cfg: Path) -> Path:
    """The cache entry of cfg/topics.toml in the cache directory run_cli gives (tmp_path/cache)."""
    return topic_cache.entry_path(tmp_path / "cache", cfg / "topics.toml")


def plant(tmp_path: Path, cfg: Path, term: str) -> None:
    """Keep another topic in the entry, under the key of topics.toml as it is now: only a run that takes its topics
    from the entry knows ``term``."""
    key = topic_cache.cache_key((cfg / "topics.toml").read_bytes())
    topic_cache.store(entry(tmp_path, cfg), key, [Topic(id="planted", label="Planted", terms=(term,))])


def kept(tmp_path: Path, cfg: Path) -> list[Topic] | None:
    """The topics the entry holds for topics.toml as it is now (None: no usable entry)."""
    found = topic_cache.load(entry(tmp_path, cfg), topic_cache.cache_key((cfg / "topics.toml").read_bytes()))
    return found[0] if found is not None else None


def test_an_unchanged_file_is_read_from_the_cache(tmp_path):
    cfg = config(tmp_path)
    first = match(tmp_path, cfg, "asylum")
    assert first.returncode == 0, first.stderr
    assert kept(tmp_path, cfg) == topics_from_toml(read_toml(cfg / "topics.toml")[0], warnings=False)[0]
    plant(tmp_path, cfg, "zzqx")
    planted = match(tmp_path, cfg, "zzqx")
    assert planted.returncode == 0 and "planted: zzqx" in planted.stdout
    assert match(tmp_path, cfg, "asylum").returncode == 1


def test_an_edit_makes_the_entry_stale(tmp_path):
    """Any change of the file's bytes, even one that keeps its size and modification time."""
    cfg = config(tmp_path)
    path = cfg / "topics.toml"
    assert match(tmp_path, cfg, "asylum").returncode == 0
    plant(tmp_path, cfg, "zzqx")
    before = path.stat()
    path.write_text(TOPICS.replace('"asylum"', '"refuge"'), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert match(tmp_path, cfg, "zzqx").returncode == 1
    assert match(tmp_path, cfg, "asylum").returncode == 1
    assert match(tmp_path, cfg, "refuge").returncode == 0
    assert [t.terms for t in kept(tmp_path, cfg) or []] == [("refuge",)]  # written again for the new bytes


def test_a_file_with_errors_is_never_kept(tmp_path):
    cfg = config(tmp_path, TOPICS + 'trems = ["x"]\n')
    done = match(tmp_path, cfg, "asylum")
    assert done.returncode == 2 and "unknown key 'trems'; did you mean 'terms'?" in done.stderr
    assert not entry(tmp_path, cfg).exists()


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xffnot json at all")


def _cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _edited_topics(path: Path) -> None:
    """The topics changed behind the header's checksum."""
    path.write_bytes(path.read_bytes().replace(b'"asylum"', b'"zzqx"'))


def _another_shape(path: Path) -> None:
    """A header that fits (key and checksum), over topics of a shape this code does not write: the terms are one
    text, not a list of them."""
    head, _, body = path.read_bytes().partition(b"\n")
    kept = json.loads(body)
    kept["topics"][0]["terms"] = "asylum"
    body = json.dumps(kept).encode()
    header = json.loads(head)
    header["sha256"] = topic_cache.hashlib.sha256(body).hexdigest()
    path.write_bytes(json.dumps(header).encode() + b"\n" + body)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [_garbage, _cut_short, _edited_topics, _another_shape, _empty])
def test_a_damaged_entry_is_ignored_and_written_again(tmp_path, damage):
    cfg = config(tmp_path)
    assert match(tmp_path, cfg, "asylum").returncode == 0
    damage(entry(tmp_path, cfg))
    assert kept(tmp_path, cfg) is None
    again = match(tmp_path, cfg, "asylum")
    assert (again.returncode, again.stderr) == (0, "")
    assert match(tmp_path, cfg, "zzqx").returncode == 1
    assert [t.id for t in kept(tmp_path, cfg) or []] == ["migration"]


def test_a_directory_that_cannot_be_written_is_skipped(tmp_path):
    """No error and the same answer: here the cache directory would have to be made inside a plain file."""
    cfg = config(tmp_path)
    (tmp_path / "file").write_text("not a directory")
    for _ in range(2):
        done = match(tmp_path, cfg, "asylum", WATCHER_CACHE_DIR=str(tmp_path / "file" / "cache"))
        assert (done.returncode, done.stderr) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "file"]
    told = run_cli(["-v", "--config", str(cfg), "match", "asylum"], tmp_path, WATCHER_CACHE_DIR=str(tmp_path / "file"))
    assert told.returncode == 0 and f"topics cache not written to {tmp_path / 'file'}" in told.stderr


def test_the_off_switch(tmp_path):
    cfg = config(tmp_path)
    assert match(tmp_path, cfg, "asylum", WATCHER_NO_CACHE="1").returncode == 0
    assert not (tmp_path / "cache").exists()  # nothing written
    plant(tmp_path, cfg, "zzqx")
    assert match(tmp_path, cfg, "zzqx", WATCHER_NO_CACHE="yes").returncode == 1  # nothing read
    assert match(tmp_path, cfg, "zzqx").returncode == 0  # the entry was usable all along


def test_check_config_never_reads_the_cache(tmp_path):
    """An entry that says a file with an error is fine is used by match (entries are trusted while the key holds),
    and check-config still parses and checks the file, finds the error and names file, entry and fix."""
    cfg = config(tmp_path, TOPICS + 'trems = ["x"]\n')
    plant(tmp_path, cfg, "zzqx")
    assert match(tmp_path, cfg, "zzqx").returncode == 0
    checked = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert checked.returncode == 1
    assert (
        f"error: {cfg / 'topics.toml'}: topic 'migration': unknown key 'trems'; did you mean 'terms'?" in checked.stderr
    )


def test_check_config_writes_no_entry(tmp_path):
    cfg = config(tmp_path)
    assert run_cli(["--config", str(cfg), "check-config"], tmp_path).returncode == 0
    assert not (tmp_path / "cache").exists()


def test_the_shipped_topics_match_the_same_from_the_cache(tmp_path):
    """The shipped topics.toml kept and read back: the same topics, and the same answers, cold, warm and off."""
    topics = topics_from_toml(read_toml(SHIPPED_CONFIG / "topics.toml")[0], warnings=False)[0]
    where = tmp_path / "entry.json"
    topic_cache.store(where, "k", topics)
    assert topic_cache.load(where, "k") == (topics, None)
    assert topic_cache.load(where, "another key") is None
    texts = tmp_path / "texts.txt"
    texts.write_text(
        "Europol dismantles a migrant smuggling network\nFrontex return flights to third countries\n"
        "Fisheries quotas for the Baltic Sea\nCarbon border adjustment mechanism: the border of the scheme\n",
        encoding="utf-8",
    )
    argv = ["--config", str(SHIPPED_CONFIG), "match", "--each-line", "--file", str(texts)]
    runs = [run_cli(argv, tmp_path), run_cli(argv, tmp_path), run_cli(argv, tmp_path, WATCHER_NO_CACHE="1")]
    assert [r.returncode for r in runs] == [0, 0, 0]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert topic_cache.entry_path(tmp_path / "cache", SHIPPED_CONFIG / "topics.toml").exists()


def test_every_field_is_kept():
    """Each field of a topic and of a context rule goes into the entry and comes back (a new field must be added to
    the cache's format, or entries would lose it)."""
    rule = ContextRule(terms=("return*",), near=("migrant*",), unless=("fish*",), within=7, yield_to=("policing",))
    topic = Topic(
        id="a",
        label="A",
        terms=("x", "y z"),
        exclude=("x y",),
        fields=("title",),
        subjects=("MIGR",),
        doc_types=("NOTE",),
        yield_to=(("b", ("y*",)),),
        context=(rule,),
        names=(("fr", "Un"),),
        relevance=0.85,
        irrelevant_below=0.02,
    )
    assert [f for f in topic_cache.TOPIC_KEYS] == [f.name for f in topic_cache.fields(Topic)]
    assert [f for f in topic_cache.RULE_KEYS] == [f.name for f in topic_cache.fields(ContextRule)]
    assert topic_cache._topic(json.loads(json.dumps(topic_cache._plain(topic)))) == topic
    assert topic_cache._topic(json.loads(json.dumps(topic_cache._plain(topic)))).relevance == 0.85
    assert topic_cache._topic(json.loads(json.dumps(topic_cache._plain(topic)))).irrelevant_below == 0.02


def test_a_topics_relevance_threshold_comes_back_from_the_cache(tmp_path):
    """An entry written by `watcher match` gives the next run each topic's relevance threshold, as the file does."""
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "topics.toml").write_text(
        '[[topic]]\nid = "a"\nlabel = "A"\nrelevance = 0.7\nirrelevant_below = 0.1\nterms = ["frontex"]\n\n'
        '[[topic]]\nid = "b"\nlabel = "B"\nterms = ["europol"]\n',
        encoding="utf-8",
    )
    first, errors = topic_cache.checked_topics(cfg / "topics.toml", tmp_path / "cache")
    assert errors == [] and [t.relevance for t in first] == [0.7, None]
    kept = topic_cache.load(
        topic_cache.entry_path(tmp_path / "cache", cfg / "topics.toml"),
        topic_cache.cache_key((cfg / "topics.toml").read_bytes()),
    )
    assert kept is not None and [t.relevance for t in kept[0]] == [0.7, None]
    assert [t.irrelevant_below for t in kept[0]] == [0.1, None]
    again, _ = topic_cache.checked_topics(cfg / "topics.toml", tmp_path / "cache")
    assert again == first


def test_a_change_of_the_checking_code_makes_entries_stale(tmp_path):
    code = tmp_path / "rules.py"
    code.write_text("A = 1\n")
    before = topic_cache.cache_key(b"same bytes", [tmp_path])
    assert topic_cache.cache_key(b"same bytes", [tmp_path]) == before
    code.write_text("A = 22\n")
    assert topic_cache.cache_key(b"same bytes", [tmp_path]) != before
    assert topic_cache.cache_key(b"other bytes", [tmp_path]) != topic_cache.cache_key(b"same bytes", [tmp_path])


def test_where_the_cache_is():
    assert settings_from_env({"WATCHER_CACHE_DIR": "/srv/c", "HOME": "/home/u"}).cache_dir == Path("/srv/c")
    assert settings_from_env({"XDG_CACHE_HOME": "/x", "HOME": "/home/u"}).cache_dir == Path("/x/watcher")
    # a relative XDG_CACHE_HOME is not used (the XDG rules say so)
    assert settings_from_env({"XDG_CACHE_HOME": "x", "HOME": "/home/u"}).cache_dir == Path("/home/u/.cache/watcher")
    assert settings_from_env({}).cache_dir is None
    assert settings_from_env({"WATCHER_NO_CACHE": "1", "WATCHER_CACHE_DIR": "/srv/c"}).cache_dir is None
    assert settings_from_env({"WATCHER_NO_CACHE": "0", "WATCHER_CACHE_DIR": "/srv/c"}).cache_dir == Path("/srv/c")
    with pytest.raises(ConfigError) as caught:
        settings_from_env({"WATCHER_NO_CACHE": "maybe"})
    assert caught.value.problems == [
        "WATCHER_NO_CACHE: 'maybe' is not understood; give 1 to turn the topics cache off, or unset it"
    ]


def test_a_file_that_is_not_utf8_is_an_error_line(tmp_path):
    """Not a traceback: match and check-config name the file, the line and the fix."""
    cfg = config(tmp_path, TOPICS)
    (cfg / "topics.toml").write_bytes(TOPICS.encode() + b'name.fr = "caf\xe9"\n')
    line = f"error: {cfg / 'topics.toml'}: line 6 is not UTF-8 text; save the file as UTF-8"
    done = match(tmp_path, cfg, "asylum")
    assert done.returncode == 2 and line in done.stderr
    checked = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert checked.returncode == 1 and line in checked.stderr


def test_reading_an_entry_leaves_the_garbage_collector_as_it_was(tmp_path):
    """The collector pauses while an entry is decoded, and runs again afterwards, also when the entry is damaged."""
    where = tmp_path / "entry.json"
    topic_cache.store(where, "k", [Topic(id="a", label="A", terms=("x",))])
    assert gc.isenabled()
    assert topic_cache.load(where, "k") is not None and gc.isenabled()
    _another_shape(where)
    assert topic_cache.load(where, "k") is None and gc.isenabled()
    gc.disable()
    try:
        topic_cache.load(where, "k")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_once_takes_its_topics_and_their_warnings_from_the_cache(tmp_path, feed_server):
    """`watcher once` (as every command that loads the whole configuration) keeps the checked topics with their
    warnings in an entry of their own and reads both from it while topics.toml is unchanged; WATCHER_NO_CACHE and
    check-config read the file."""
    feed_server.set("/feed.xml", rss([{"title": "zzqx asylum news", "link": "https://e.org/1", "guid": "1"}]))
    warned = TOPICS.replace('terms = ["asylum"]', 'terms = ["asylum", "asylum"]')
    cfg = make_config(tmp_path / "cfg", source_toml("feed", feed_server.url("/feed.xml")), warned)

    def once(**env: str) -> tuple[list[str], str]:
        done = run_cli(["--config", str(cfg), "once", "--dry-run", "--json"], tmp_path, **env)
        assert done.returncode == 0, done.stderr
        return [topic for line in done.stdout.splitlines() for topic in json.loads(line)["topics"]], done.stderr

    raised, said = once()
    warnings = [line.removeprefix("warning: ") for line in said.splitlines() if line.startswith("warning: ")]
    assert raised == ["migration"] and len(warnings) == 1 and "asylum" in warnings[0]
    where = topic_cache.entry_path(tmp_path / "cache", cfg / "topics.toml", warnings=True)
    key = topic_cache.cache_key((cfg / "topics.toml").read_bytes(), warnings=True, named=str(cfg / "topics.toml"))
    assert topic_cache.load(where, key) == (topics_from_toml(read_toml(cfg / "topics.toml")[0])[0], warnings)
    assert kept(tmp_path, cfg) is None  # match's entry (no warnings) is another file, not written by once
    # only a run that reads the entry knows the planted topic and says the planted warning
    topic_cache.store(where, key, [Topic(id="planted", label="Planted", terms=("zzqx",))], ["planted warning"])
    assert once() == (["planted"], "warning: planted warning\n")
    raised, said = once(WATCHER_NO_CACHE="1")
    assert raised == ["migration"] and warnings[0] in said and "planted" not in said
    checked = run_cli(["--config", str(cfg), "check-config"], tmp_path)
    assert warnings[0] in checked.stderr and "planted" not in checked.stderr + checked.stdout


def test_a_warning_from_the_cache_names_the_file_as_this_run_was_given_it(tmp_path):
    """The entry with warnings is made again when the same topics.toml is given by another path (relative, then
    absolute), so each run's warnings name the file as check-config would for that run."""
    cfg = config(tmp_path, TOPICS.replace('terms = ["asylum"]', 'terms = ["asylum", "asylum"]'))
    said = []
    for given in ("cfg", str(cfg), "cfg"):
        done = run_cli(["--config", given, "status"], tmp_path)
        said.append([line for line in done.stderr.splitlines() if line.startswith("warning: ")])
    assert said[0] and said[0][0].startswith(f"warning: {Path('cfg') / 'topics.toml'}:")
    assert said[1] and said[1][0].startswith(f"warning: {cfg / 'topics.toml'}:")
    assert said[2] == said[0]
