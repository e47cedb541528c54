"""The catalogue and the verified downloader, on small files the tests make themselves."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from evidence_pack.sources import catalogue
from evidence_pack.sources.catalogue import Entry, FetchError


def make_entry(tmp_path: Path, name: str, content: bytes) -> tuple[Entry, Path]:
    mirror = tmp_path / "mirror"
    src = mirror / "grp" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(content)
    e = Entry(id=name, group="grp", path=f"grp/{name}", url=f"http://127.0.0.1:9/{name}",
              sha256=hashlib.sha256(content).hexdigest(), bytes=len(content), reader="csv",
              licence="OGL-3.0", attribution="test", description="test")
    return e, mirror


def test_catalogue_has_every_source_with_checksums():
    cat = catalogue.load_catalogue()
    assert len(cat) == 320
    groups = {e.group for e in cat.values()}
    assert {"humaniverse-IMD", "mhclg-iod-files", "mhclg-revenue-outturn", "ons-lookups"} <= groups
    for e in cat.values():
        assert e.url.startswith("https://") and len(e.sha256) == 64 and e.licence and e.attribution


def test_fetch_from_mirror_verifies_and_places_file(tmp_path):
    e, mirror = make_entry(tmp_path, "a.csv", b"x,y\n1,2\n")
    raw = tmp_path / "raw"
    result = catalogue.fetch([e], raw_dir=raw, mirror=mirror, allow_network=False, progress=False)
    assert result == {"a.csv": "mirror"}
    assert (raw / "grp" / "a.csv").read_bytes() == b"x,y\n1,2\n"
    # second run: already present and valid, nothing copied
    assert catalogue.fetch([e], raw_dir=raw, mirror=mirror, allow_network=False,
                           progress=False) == {"a.csv": "present"}


def test_mirror_file_with_wrong_checksum_is_never_used(tmp_path):
    e, mirror = make_entry(tmp_path, "b.csv", b"good")
    (mirror / "grp" / "b.csv").write_bytes(b"evil")
    raw = tmp_path / "raw"
    with pytest.raises(FetchError, match="sha256 mismatch"):
        catalogue.fetch([e], raw_dir=raw, mirror=mirror, allow_network=False, progress=False)
    assert not (raw / "grp" / "b.csv").exists()
    assert not list((raw / "grp").glob("*.part")), "temporary file left behind"


def test_offline_without_mirror_lists_missing_files_and_how_to_supply(tmp_path):
    e1, _ = make_entry(tmp_path, "c.csv", b"1")
    e2, _ = make_entry(tmp_path, "d.csv", b"2")
    with pytest.raises(FetchError) as info:
        catalogue.fetch([e1, e2], raw_dir=tmp_path / "raw", mirror=None, allow_network=False,
                        progress=False)
    msg = str(info.value)
    assert "2 of 2" in msg and "grp/c.csv" in msg and "grp/d.csv" in msg
    assert "EVIDENCE_PACK_MIRROR" in msg and "--mirror" in msg


def test_altered_raw_file_is_refused(tmp_path, monkeypatch):
    e, mirror = make_entry(tmp_path, "e.csv", b"original")
    raw = tmp_path / "raw"
    catalogue.fetch([e], raw_dir=raw, mirror=mirror, allow_network=False, progress=False)
    monkeypatch.setattr(catalogue, "entry", lambda _id: e)
    assert catalogue.path_for("e.csv", raw_dir=raw) == raw / "grp" / "e.csv"
    (raw / "grp" / "e.csv").write_bytes(b"truncat")
    with pytest.raises(FetchError, match="does not match its sha256"):
        catalogue.path_for("e.csv", raw_dir=raw)


def test_unknown_dataset_id_is_a_clear_error():
    with pytest.raises(KeyError, match="no dataset"):
        catalogue.entry("imd1999_nowhere")


@pytest.mark.mirror
def test_every_raw_file_verifies(raw_data):
    assert catalogue.verify() == []


def test_atomic_writes_leave_readable_files(tmp_path):
    import os
    import stat

    from evidence_pack.sources.io import write_text

    umask = os.umask(0o022)
    try:
        out = write_text("x", tmp_path / "a.txt")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_read_yaml_names_file_and_line(tmp_path):
    from evidence_pack.sources.io import DataError, read_yaml

    bad = tmp_path / "x.yml"
    bad.write_text("a: 1\nb: [unclosed\n")
    with pytest.raises(DataError, match=r"x\.yml, row line \d+: bad YAML"):
        read_yaml(bad, "test file")
    with pytest.raises(DataError, match="cannot read the test file"):
        read_yaml(tmp_path / "missing.yml", "test file")


def test_read_yaml_parses_a_text_once_and_gives_each_caller_its_own_copy(tmp_path, monkeypatch):
    """The Rotherham areas file read twice is parsed once (same document, separate copies a
    caller may change); an edited copy of it is parsed again, and a bad edit still fails."""
    from evidence_pack import config
    from evidence_pack.sources import io as io_mod

    real = config.AREAS_DIR / "rotherham.yml"
    path = tmp_path / "areas.yml"
    path.write_bytes(real.read_bytes())
    parses = []
    orig = io_mod._StrictLoader.get_single_data
    monkeypatch.setattr(io_mod._StrictLoader, "get_single_data",
                        lambda self: (parses.append(1), orig(self))[1])
    first = io_mod.read_yaml(path, "areas file")
    first["la_name"] = "changed by a caller"
    second = io_mod.read_yaml(path, "areas file")
    assert len(parses) == 1 and second != first and second["areas"] == first["areas"]
    path.write_text(real.read_text(encoding="utf-8").replace("Canklow", "Canklow Wood"),
                    encoding="utf-8")
    assert "Canklow Wood" in str(io_mod.read_yaml(path, "areas file")) and len(parses) == 2
    path.write_text(real.read_text(encoding="utf-8") + "\n\tbad: tab\n", encoding="utf-8")
    with pytest.raises(io_mod.DataError, match="tab character"):
        io_mod.read_yaml(path, "areas file")
