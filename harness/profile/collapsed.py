"""py-spy's raw output (collapsed stacks) read: top functions by own and total time, a flame tree.

One line per unique stack, root first: `frame;frame;frame N`. A frame reads
`function (file.py:line)`; with --subprocesses the stack starts with one
`process PID:"command line"` frame per process from the one sampled down to the one the
sample was taken in. Process frames are dropped from the tree and the top functions (uvicorn
workers run the same code; their samples add up) and counted as processes instead.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from harness.profile.summary import FlameNode, TopFunction

_PROCESS = re.compile(r"^process (\d+):")
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
ROOT_LABEL = "all"
TOP_LIMIT = 20
# Boxes under this share of all samples are merged into their parent (it gets wider than
# its children); the cap on nodes keeps a pathological profile from bloating the report.
MIN_SHARE = 0.005
MAX_NODES = 1500
# Leaves where a thread waits, not works: py-spy's own idle test misses threads parked in a
# lock (a thread pool's idle workers), and they would top a CPU profile. (file, function)
WAITING = {
    ("threading.py", "Condition.wait"),
    ("threading.py", "Event.wait"),
    ("threading.py", "Thread.join"),
    ("threading.py", "Thread._wait_for_tstate_lock"),
    ("queue.py", "Queue.get"),
    ("concurrent/futures/thread.py", "_worker"),
    ("selectors.py", "EpollSelector.select"),
    ("selectors.py", "PollSelector.select"),
    ("selectors.py", "SelectSelector.select"),
}


@dataclass(frozen=True)
class Frame:
    function: str
    file: str | None = None
    line: int | None = None

    @property
    def label(self) -> str:
        if self.file is None:
            return self.function
        return f"{self.function} ({self.file}{'' if self.line is None else f':{self.line}'})"


@dataclass(frozen=True)
class Stack:
    frames: tuple[Frame, ...]  # root first
    count: int
    process: int | None = None  # the pid the sample came from, when py-spy said


def parse_frame(text: str) -> Frame:
    found = _FRAME.match(text)
    if found is None:
        return Frame(text)
    line = found["line"]
    return Frame(found["function"], found["file"], int(line) if line else None)


def parse_collapsed(text: str) -> list[Stack]:
    """Every well-formed line; a line without a trailing count (a cut-off write) is skipped."""
    stacks = []
    for raw in text.splitlines():
        head, _, count = raw.rstrip().rpartition(" ")
        if not head or not count.isdigit() or int(count) == 0:
            continue
        parts = head.split(";")
        process = None
        while parts and (found := _PROCESS.match(parts[0])):
            process = int(found[1])
            parts.pop(0)
        if parts:
            stacks.append(Stack(tuple(parse_frame(p) for p in parts), int(count), process))
    return stacks


def waiting(stack: Stack) -> bool:
    """True when the sample caught the thread waiting (its leaf is a known wait)."""
    leaf = stack.frames[-1]
    return any(
        leaf.function == function and (leaf.file or "").endswith(file) for file, function in WAITING
    )


def working(stacks: list[Stack]) -> list[Stack]:
    """The samples of threads at work: those caught waiting are left out."""
    return [s for s in stacks if not waiting(s)]


def sample_count(stacks: list[Stack]) -> int:
    return sum(s.count for s in stacks)


def process_count(stacks: list[Stack]) -> int:
    pids = {s.process for s in stacks}
    return len(pids - {None}) or (1 if stacks else 0)


def top_functions(stacks: list[Stack], limit: int = TOP_LIMIT) -> list[TopFunction]:
    """Functions by own time (leaf frame), with their total time (anywhere in the stack,
    once per stack however deep a recursion goes), as shares of all samples."""
    total = sample_count(stacks)
    if total == 0:
        return []
    own: Counter[Frame] = Counter()
    inclusive: Counter[Frame] = Counter()
    for stack in stacks:
        own[stack.frames[-1]] += stack.count
        for frame in set(stack.frames):
            inclusive[frame] += stack.count
    ranked = sorted(own, key=lambda f: (-own[f], -inclusive[f], f.label))[:limit]
    return [
        TopFunction(
            function=f.function,
            file=f.file,
            line=f.line,
            own_samples=own[f],
            own_share=round(own[f] / total, 4),
            total_samples=inclusive[f],
            total_share=round(inclusive[f] / total, 4),
        )
        for f in ranked
    ]


def flame_tree(
    stacks: list[Stack], min_share: float = MIN_SHARE, max_nodes: int = MAX_NODES
) -> list[FlameNode]:
    """The flame graph's boxes, parents before children; empty without samples."""
    total = sample_count(stacks)
    if total == 0:
        return []
    # Build the full tree keyed by path, then keep the widest boxes.
    value: Counter[tuple[str, ...]] = Counter()
    for stack in stacks:
        path: tuple[str, ...] = ()
        for frame in stack.frames:
            path = (*path, frame.label)
            value[path] += stack.count
    floor = total * min_share
    kept = sorted(
        (path for path, v in value.items() if v >= floor),
        key=lambda p: (-value[p], len(p), p),  # a parent is never narrower than its child
    )[: max_nodes - 1]
    # A kept box's parent is kept too (at least as wide, sorted first); number them root-down.
    kept.sort(key=lambda p: (len(p), -value[p], p))
    ids: dict[tuple[str, ...], int] = {(): 0}
    nodes = [FlameNode(id=0, parent=None, label=ROOT_LABEL, value=total)]
    for path in kept:
        if path[:-1] not in ids:
            continue  # its parent fell to the node cap
        ids[path] = len(nodes)
        nodes.append(
            FlameNode(id=ids[path], parent=ids[path[:-1]], label=path[-1], value=value[path])
        )
    return nodes
