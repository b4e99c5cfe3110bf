"""Finding the Debian mirror in deb822 and classic APT source files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ImageBuildError
from harness.images.apt_sources import (
    AptSource,
    host_mirror,
    parse_deb822,
    parse_one_line,
    pick_mirror,
    read_host_sources,
)

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

CLASSIC = """\
# the main archive
deb http://ftp.de.debian.org/debian bookworm main contrib  # trailing comment
deb-src http://ftp.de.debian.org/debian bookworm main
deb [arch=amd64 signed-by=/etc/apt/keyrings/local.gpg] https://mirror.example/debian bookworm-updates main
  # indented comment
deb http://security.debian.org/debian-security bookworm-security main
"""


def test_deb822_entries_keep_uri_suites_components_and_keyring() -> None:
    sources = parse_deb822(DEB822)

    assert sources == [
        AptSource(
            uri="http://deb.debian.org/debian",
            suites=("bookworm", "bookworm-updates"),
            components=("main",),
            signed_by="/usr/share/keyrings/debian-archive-keyring.gpg",
        ),
        AptSource(
            uri="http://deb.debian.org/debian-security",
            suites=("bookworm-security",),
            components=("main",),
            signed_by="/usr/share/keyrings/debian-archive-keyring.gpg",
        ),
    ]


def test_deb822_skips_disabled_and_source_only_stanzas_and_splits_uris() -> None:
    text = (
        "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n\n"
        "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n"
        "Components: main\n\n"
        "Types: deb deb-src\nURIs: http://a.example/debian http://b.example/debian\n"
        "Suites: bookworm\nComponents: main non-free-firmware\n"
        "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n"
    )

    sources = parse_deb822(text)

    assert [s.uri for s in sources] == ["http://a.example/debian", "http://b.example/debian"]
    assert sources[0].components == ("main", "non-free-firmware")
    # An inline key is no file debootstrap could use as --keyring.
    assert sources[0].signed_by is None


def test_classic_lines_with_options_and_comments() -> None:
    sources = parse_one_line(CLASSIC)

    assert [(s.uri, s.suites, s.components) for s in sources] == [
        ("http://ftp.de.debian.org/debian", ("bookworm",), ("main", "contrib")),
        ("https://mirror.example/debian", ("bookworm-updates",), ("main",)),
        ("http://security.debian.org/debian-security", ("bookworm-security",), ("main",)),
    ]
    assert sources[1].signed_by == "/etc/apt/keyrings/local.gpg"


def test_host_mirror_reads_list_and_sources_files_in_apt_order(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("# nothing here\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "a-old.list.disabled").write_text(
        "deb http://ignored.example/debian bookworm main\n"
    )
    (tmp_path / "sources.list.d" / "z-extra.list").write_text(
        "deb http://extra.example/debian bookworm main\n"
    )

    assert [s.uri for s in read_host_sources(tmp_path)] == [
        "http://deb.debian.org/debian",
        "http://deb.debian.org/debian-security",
        "http://extra.example/debian",
    ]
    assert host_mirror("bookworm", tmp_path).uri == "http://deb.debian.org/debian"


def test_pick_mirror_needs_the_suite_with_main() -> None:
    sources = parse_one_line("deb http://x.example/debian bookworm contrib\n")

    with pytest.raises(ImageBuildError) as caught:
        pick_mirror(sources, "bookworm")

    assert "bookworm" in caught.value.message
    assert "docker save" in caught.value.hint
