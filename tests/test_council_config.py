"""Council source kinds in sources.toml: the shipped entries, options from TOML, and readable errors."""

from __future__ import annotations

import pytest

from tests.conftest import SHIPPED_CONFIG, make_config
from watcher.config import load_config
from watcher.errors import ConfigError
from watcher.sources.council_documents import CouncilDocumentsSource
from watcher.sources.council_register import CouncilRegisterSource

TOPICS = '[[topic]]\nid = "smuggling"\nlabel = "Smuggling"\nterms = ["migrant smuggling"]\nexclude = []\n'


def load(tmp_path, text: str):
    return load_config(make_config(tmp_path / "cfg", text, TOPICS))


def test_shipped_council_entries():
    """The shipped config has the register search on, and the listing pages and the document server as examples."""
    sources = {s.name: s for s in load_config(SHIPPED_CONFIG).sources}
    search, latest, docs = sources["council-register"], sources["council-register-latest"], sources["council-documents"]
    assert isinstance(search, CouncilRegisterSource) and search.enabled and search.search
    assert (
        isinstance(latest, CouncilRegisterSource)
        and not latest.search
        and latest.listing_urls()
        == [
            "https://www.consilium.europa.eu/en/documents/public-register/latest/",
            "https://www.consilium.europa.eu/en/documents/public-register/oj-council/",
        ]
    )
    assert isinstance(docs, CouncilDocumentsSource) and docs.series == "ST" and docs.gap_max_age == 90 * 86400
    assert docs.langs == ("en", "fr", "de")


def test_options_are_read_from_toml(tmp_path):
    """Lists, durations and numbers in a council entry become the source's options."""
    config = load(
        tmp_path,
        """
[[source]]
name = "reg"
kind = "council-register"
url = "https://www.consilium.europa.eu/en/documents-publications/public-register/public-register-search/"
every = "30m"
subject_matters = ["MIGR", "FRONT"]
only_public = true
pdf_text = "all"

[[source]]
name = "docs"
kind = "council-documents"
url = "https://data.consilium.europa.eu/doc/document/"
every = "15m"
start = 9000
gap_max_age = "10d"
""",
    )
    reg, docs = config.sources
    assert reg.subject_matters == ("MIGR", "FRONT") and reg.only_public and reg.pdf_text == "all"
    assert docs.start == 9000 and docs.gap_max_age == 10 * 86400


@pytest.mark.parametrize(
    "entry,needle",
    [
        ('kind = "council-register"\npdf_text = "some"', "'pdf_text' must be one of flagged, all, none"),
        ('kind = "council-register"\nsearch = false', "nothing to poll"),
        ('kind = "council-register"\nmax_pages = 80', "'max_pages' must be from 1 to 50"),
        ('kind = "council-documents"\nwindow = 0', "'window' must be from 1"),
        ('kind = "council-documents"\nseries = "XY"', "'series' must be one of"),
        ('kind = "council-documents"\nwindw = 3', "unknown key 'windw'"),
    ],
)
def test_bad_council_options_name_the_source_and_the_fix(tmp_path, entry, needle):
    """A wrong council option stops the configuration with a line naming the source and the option."""
    text = f'[[source]]\nname = "c"\nurl = "https://e.org/"\nevery = "1h"\n{entry}\n'
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    [line] = info.value.problems
    assert "source 'c'" in line and needle in line
