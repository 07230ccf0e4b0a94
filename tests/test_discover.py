"""Discovery and symbolic links: a link that leads out of the folder is not read unless asked;
followed links never loop."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from indexes import HashEmbedder, Index
from ingest import IngestOptions, ingest_paths
from ingest.discover import discover

EMB = HashEmbedder(dimension=64)

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs POSIX symbolic links")


@pytest.fixture
def shared_folder(tmp_path: Path) -> Path:
    """A shared folder with a link to a secret outside it, a link to a folder outside it, and a link inside."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("aws_secret_access_key = wJalrXUtnFEMI\n", encoding="utf-8")
    (home / "private").mkdir()
    (home / "private" / "diary.txt").write_text("The diary of a keeper, never to be shared.\n", encoding="utf-8")
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "minutes.txt").write_text("Minutes: the harbour lamp is lit at dusk.\n", encoding="utf-8")
    (folder / "notes.txt").symlink_to(home / ".aws" / "credentials")
    (folder / "archive").symlink_to(home / "private", target_is_directory=True)
    (folder / "latest.txt").symlink_to(folder / "minutes.txt")
    return folder


def test_links_out_of_the_folder_are_skipped_and_not_indexed(tmp_path: Path, shared_folder: Path) -> None:
    report = ingest_paths(tmp_path / "idx", [shared_folder], EMB)
    verdicts = {Path(f.path).name: (f.status, f.reason) for f in report.files}
    assert verdicts == {"minutes.txt": ("added", None), "latest.txt": ("added", None),
                        "notes.txt": ("skipped", "symlink_outside"), "archive": ("skipped", "symlink_outside")}
    assert report.exit_code == 0  # a skip is a decision, not a failure
    with Index.open(tmp_path / "idx") as index:
        texts = [h.chunk.text for h in index.search(EMB.embed(["aws_secret_access_key diary"])[0], 10)]
    assert texts and not any("wJalrXUtnFEMI" in t or "diary" in t for t in texts)


def test_follow_symlinks_reads_links_under_their_own_names(tmp_path: Path, shared_folder: Path) -> None:
    report = ingest_paths(tmp_path / "idx", [shared_folder], EMB, IngestOptions(follow_symlinks=True))
    added = sorted(str(Path(f.path).relative_to(shared_folder)) for f in report.files if f.status == "added")
    assert added == ["archive/diary.txt", "latest.txt", "minutes.txt", "notes.txt"]
    # Turned off again, the files read through links that leave the folder are removed.
    report = ingest_paths(tmp_path / "idx", [shared_folder], EMB)
    removed = sorted(str(Path(f.path).relative_to(shared_folder)) for f in report.files if f.status == "removed")
    assert removed == ["archive/diary.txt", "notes.txt"]


def test_directory_link_loops_end_and_each_directory_is_walked_once(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "a" / "b" / "deep.txt").write_text("deep\n", encoding="utf-8")
    (folder / "top.txt").write_text("top\n", encoding="utf-8")
    (folder / "a" / "b" / "up").symlink_to(folder, target_is_directory=True)  # a loop back to the root
    (folder / "a" / "again").symlink_to(folder / "a", target_is_directory=True)  # a loop onto itself
    (folder / "twin").symlink_to(folder / "a" / "b", target_is_directory=True)  # the same directory twice
    found: dict[bool, list[str]] = {}

    def run(follow: bool) -> None:
        candidates = discover([folder], follow_symlinks=follow).candidates
        found[follow] = sorted(str(c.path.relative_to(folder)) for c in candidates)

    for follow in (False, True):
        thread = threading.Thread(target=run, args=(follow,), daemon=True)
        thread.start()
        thread.join(20)
        assert not thread.is_alive(), "discovery hung on a link loop"
    assert found[False] == ["a/b/deep.txt", "top.txt"]
    assert found[True] == ["a/b/deep.txt", "top.txt"]  # each real directory once, under its first name
