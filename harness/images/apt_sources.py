"""Reading the host's APT sources (deb822 `.sources`, classic `sources.list`) to find a mirror."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ImageBuildError


@dataclass(frozen=True)
class AptSource:
    """One binary (`deb`) repository entry: a mirror URI, its suites and components."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None


def parse_deb822(text: str) -> list[AptSource]:
    """The enabled `deb` entries of a deb822 `.sources` file."""
    sources: list[AptSource] = []
    for stanza in _deb822_stanzas(text):
        if stanza.get("enabled", "yes").lower() in {"no", "false", "0"}:
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        signed_by = stanza.get("signed-by")
        # Signed-By may hold an inline armoured key; only a file path is useful to debootstrap.
        keyring = signed_by if signed_by and "\n" not in signed_by else None
        for uri in stanza.get("uris", "").split():
            sources.append(
                AptSource(
                    uri=uri,
                    suites=tuple(stanza.get("suites", "").split()),
                    components=tuple(stanza.get("components", "").split()),
                    signed_by=keyring,
                )
            )
    return sources


def _deb822_stanzas(text: str) -> Iterator[dict[str, str]]:
    """Stanzas as lower-cased field -> value; continuation lines are joined with newlines."""
    fields: dict[str, str] = {}
    current: str | None = None
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields
            fields, current = {}, None
            continue
        if raw[0] in " \t" and current is not None:
            continuation = raw.strip()
            fields[current] += "\n" + ("" if continuation == "." else continuation)
            continue
        name, sep, value = raw.partition(":")
        if not sep:
            continue
        current = name.strip().lower()
        fields[current] = value.strip()
    if fields:
        yield fields


_OPTIONS = re.compile(r"^\[(?P<options>[^\]]*)\]\s*")


def parse_one_line(text: str) -> list[AptSource]:
    """The `deb` lines of a classic one-line-style `sources.list`."""
    sources: list[AptSource] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        kind, _, rest = line.partition(" ")
        if kind != "deb":
            continue
        rest = rest.strip()
        signed_by: str | None = None
        options = _OPTIONS.match(rest)
        if options:
            for option in options.group("options").split():
                key, _, value = option.partition("=")
                if key == "signed-by":
                    signed_by = value
            rest = rest[options.end() :]
        words = rest.split()
        if len(words) < 2:
            continue
        sources.append(
            AptSource(
                uri=words[0],
                suites=(words[1],),
                components=tuple(words[2:]),
                signed_by=signed_by,
            )
        )
    return sources


def read_host_sources(etc_apt: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every enabled `deb` entry configured on this host, in APT's reading order."""
    sources: list[AptSource] = []
    main_list = etc_apt / "sources.list"
    if main_list.is_file():
        sources.extend(parse_one_line(main_list.read_text(encoding="utf-8", errors="replace")))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        # APT ignores files with other extensions (e.g. `*.list.disabled`), and so do we.
        for path in sorted(parts.iterdir()):
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
            if path.suffix == ".list":
                sources.extend(parse_one_line(text))
            elif path.suffix == ".sources":
                sources.extend(parse_deb822(text))
    return sources


def pick_mirror(sources: Iterable[AptSource], suite: str) -> AptSource:
    """The first entry that serves `suite` with the `main` component."""
    candidates = list(sources)
    for source in candidates:
        if suite in source.suites and "main" in source.components:
            return source
    seen = ", ".join(f"{s.uri} {' '.join(s.suites)}" for s in candidates) or "none"
    raise ImageBuildError(
        f"no APT source for Debian {suite!r} (main) is configured on this host (found: {seen})",
        f"add a `deb http://deb.debian.org/debian {suite} main` entry under /etc/apt, "
        "or pull the base images on a machine with a registry and `docker save`/`docker load` them",
    )


def host_mirror(
    suite: str, etc_apt: Path = Path("/etc/apt"), *, like: str | None = None
) -> AptSource:
    """The mirror this host's own APT configuration uses for `suite`.

    With `like`, a suite the host does not configure (trixie on a bookworm host) is taken
    from the mirror that serves `like`: one Debian archive serves every release.
    """
    sources = read_host_sources(etc_apt)
    try:
        return pick_mirror(sources, suite)
    except ImageBuildError:
        if like is None:
            raise
        mirror = pick_mirror(sources, like)
    return AptSource(mirror.uri, (suite,), mirror.components, mirror.signed_by)
