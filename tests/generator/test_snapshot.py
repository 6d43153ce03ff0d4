"""Input digests trusted by stat, as git's index does, and never when a change could hide."""
from __future__ import annotations

import os
from pathlib import Path

from generator.snapshot import FileDigests, file_digest


def aged(path: Path, seconds: int = 60) -> None:
    """Make ``path`` look written a while ago (its ctime stays now, as on a real disk)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 10**9))


def settle(files: FileDigests) -> None:
    # Pretend the recording build ran long after every file was last touched.
    files._trusted_before = 2**62


def test_an_unchanged_file_is_not_read_again(tmp_path: Path, monkeypatch) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("one", encoding="utf-8")
    first = FileDigests()
    settle(first)
    assert first(str(doc)) == file_digest(str(doc))
    reads = []
    monkeypatch.setattr("generator.snapshot.file_digest", lambda p: reads.append(p) or "read")
    again = FileDigests(first.record())
    assert again(str(doc)) == first.known[str(doc)] and reads == []


def test_same_size_same_mtime_rewrite_is_still_seen(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("one", encoding="utf-8")
    aged(doc)
    first = FileDigests()
    settle(first)
    before = first(str(doc))
    mtime = doc.stat().st_mtime_ns
    doc.write_text("two", encoding="utf-8")           # same size
    os.utime(doc, ns=(mtime, mtime))                   # and the old mtime put back
    assert FileDigests(first.record())(str(doc)) == file_digest(str(doc)) != before


def test_a_file_changed_just_before_recording_is_read_next_time(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("one", encoding="utf-8")
    first = FileDigests()                              # the file is younger than two seconds
    first(str(doc))
    assert first.record() == b"{}"


def test_a_garbled_record_is_ignored(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("one", encoding="utf-8")
    for bad in (b"not json", b"[1, 2]", b'{"%s": "x"}' % str(doc).encode(), b'{"%s": [1]}' % str(doc).encode()):
        assert FileDigests(bad)(str(doc)) == file_digest(str(doc))
