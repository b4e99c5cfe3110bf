"""Labels that mark every Docker object the harness creates: which stack, role and owner."""

from __future__ import annotations

from harness.owner import Owner

HARNESS = "org.contravento.harness"
HARNESS_VALUE = "1"
STACK = f"{HARNESS}.stack"
OWNER_PID = f"{HARNESS}.owner-pid"
OWNER_START = f"{HARNESS}.owner-start"
ROLE = f"{HARNESS}.role"
# A stack that outlives the command that started it (`harness up`) carries this marker volume
# once it is fully up; anything else is kept only while its owner process is alive.
READY_MARKER_ROLE = "ready-marker"
# The label filter that finds everything the harness created (images carry it too).
OWNED = f"{HARNESS}={HARNESS_VALUE}"


def labels_for(stack_id: str, owner: Owner, role: str) -> dict[str, str]:
    return {
        HARNESS: HARNESS_VALUE,
        STACK: stack_id,
        OWNER_PID: str(owner.pid),
        OWNER_START: owner.start,
        ROLE: role,
    }


def owner_of(labels: dict[str, str]) -> Owner | None:
    try:
        return Owner(int(labels[OWNER_PID]), labels.get(OWNER_START, ""))
    except (KeyError, ValueError):
        return None


def stack_filter(stack_id: str) -> str:
    """The label filter (`key=value`) that matches one stack's objects."""
    return f"{STACK}={stack_id}"


def stack_selector(stack_id: str) -> list[str]:
    """Label filters that match every Docker object of one stack (and nothing merely built)."""
    return [OWNED, stack_filter(stack_id)]
