"""Which tables a seed empties and which it keeps, whatever else the live schema holds.

A seed empties the tables it writes, every table whose foreign keys lead to one of them (a
notification of a user, a track point of a GPX file of a trip: their rows could not outlive
the users and trips they belong to), and the contract's user-data tables. It never empties a
reference table: the rows the application needs to work, which its migrations or an init
script load and the seeder does not write. When a foreign key ties a reference table to seeded
data, seeding would have to empty it, so the seeder refuses before it changes anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.errors import ConfigError

# Reference tables of every ContraVento database; `keep_tables` of a SeedRequest adds more.
REFERENCE_TABLES = (
    "achievements",  # the nine badges, looked up by code when seeded users get them
    "cycling_types",  # the codes a profile's cycling_type must be one of
    "alembic_version",  # the schema's migration head
)
# Contract tables of user data that the seeder does not write, emptied with the users even in
# a schema that declares no foreign key for them.
USER_DATA_TABLES = ("comments", "password_resets")


@dataclass(frozen=True)
class Tables:
    written: tuple[str, ...]  # what the seeder writes, in load order
    emptied: tuple[str, ...]  # everything a seed empties: the written tables first
    kept: tuple[str, ...]  # the reference tables this database has, never emptied

    @property
    def others(self) -> tuple[str, ...]:
        """Emptied tables the seeder does not write: what `--reset` throws away for good."""
        return tuple(t for t in self.emptied if t not in self.written)


def plan_tables(
    present: Iterable[str],
    references: Mapping[str, set[str]],
    written: Iterable[str],
    keep: Iterable[str] = (),
) -> Tables:
    """present: the database's tables; references: table -> the tables its foreign keys name."""
    tables = set(present)
    written = tuple(written)
    keep = tuple(keep)
    for name in keep:
        if name in written:
            raise ConfigError(
                f"keep_tables names {name}, a table the seeder writes",
                "remove it from [seed] keep_tables: the seeder always replaces its rows",
            )
    because: dict[str, str] = dict.fromkeys(written, "")
    because.update({t: "" for t in USER_DATA_TABLES if t in tables and t not in because})
    grew = True
    while grew:  # every table whose foreign keys lead to an emptied one, however far
        grew = False
        for child in sorted(references):
            parents = sorted(references[child] & because.keys() - {child})
            if child in tables and child not in because and parents:
                because[child] = parents[0]
                grew = True
    reference = [t for t in dict.fromkeys((*REFERENCE_TABLES, *keep)) if t in tables]
    for name in reference:
        if name in because:
            raise ConfigError(
                f"seeding would empty the reference table {name}: a foreign key ties it to"
                f" {because[name]}, whose rows the seeder replaces",
                f"remove {name} from [seed] keep_tables if its rows may go, or drop that"
                " foreign key from the schema",
            )
    emptied = (*written, *sorted(t for t in because if t not in written))
    return Tables(written=written, emptied=emptied, kept=tuple(reference))
