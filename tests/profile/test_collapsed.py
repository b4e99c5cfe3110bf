"""Reading py-spy's collapsed stacks: frames, processes, top functions, the flame tree."""

from __future__ import annotations

from harness.profile.collapsed import (
    Frame,
    flame_tree,
    parse_collapsed,
    parse_frame,
    process_count,
    sample_count,
    top_functions,
    working,
)

# Two uvicorn workers (children of the process sampled), a recursion, a malformed line.
RAW = """\
process 1:"python -m backend";process 7:"python -c spawn";<module> (<string>:1);serve (app.py:10);handle (app.py:20);hash_pw (auth.py:5) 60
process 1:"python -m backend";process 8:"python -c spawn";<module> (<string>:1);serve (app.py:10);handle (app.py:20);hash_pw (auth.py:5) 20
process 1:"python -m backend";process 7:"python -c spawn";<module> (<string>:1);serve (app.py:10);handle (app.py:20) 10
process 1:"python -m backend";process 7:"python -c spawn";<module> (<string>:1);serve (app.py:10);walk (tree.py:3);walk (tree.py:3);walk (tree.py:3) 9
process 1:"python -m backend";<module> (<string>:1);serve (app.py:10);json_dumps 1
this line has no count
"""


def test_frames_read_with_and_without_file_and_line() -> None:
    assert parse_frame("hash_pw (auth.py:5)") == Frame("hash_pw", "auth.py", 5)
    assert parse_frame("<lambda> (pkg/mod.py)") == Frame("<lambda>", "pkg/mod.py", None)
    assert parse_frame("json_dumps") == Frame("json_dumps")
    assert Frame("f", "a.py", 2).label == "f (a.py:2)"


def test_process_frames_become_processes_not_frames() -> None:
    stacks = parse_collapsed(RAW)
    assert len(stacks) == 5  # the malformed line is skipped
    assert sample_count(stacks) == 100
    assert process_count(stacks) == 3  # the two workers and the parent
    assert {s.process for s in stacks} == {1, 7, 8}
    assert all(not f.function.startswith("process ") for s in stacks for f in s.frames)


def test_top_functions_by_own_time_with_total_time() -> None:
    top = top_functions(parse_collapsed(RAW))
    first = top[0]
    assert (first.function, first.file, first.line) == ("hash_pw", "auth.py", 5)
    assert (first.own_samples, first.own_share, first.total_share) == (80, 0.8, 0.8)
    by_name = {t.function: t for t in top}
    # handle: 10 samples as the leaf, 90 anywhere (80 of them under hash_pw)
    assert (by_name["handle"].own_share, by_name["handle"].total_share) == (0.1, 0.9)
    # recursion counts once per stack in the total
    assert (by_name["walk"].own_samples, by_name["walk"].total_samples) == (9, 9)
    assert by_name["json_dumps"].file is None
    assert "serve" not in by_name  # never a leaf: no own time
    assert [t.own_samples for t in top] == sorted((t.own_samples for t in top), reverse=True)


def test_top_functions_are_capped() -> None:
    raw = "\n".join(f"f{i} (m.py:{i}) {i + 1}" for i in range(50))
    top = top_functions(parse_collapsed(raw), limit=20)
    assert len(top) == 20 and top[0].function == "f49"


def test_flame_tree_values_include_children_and_parents_come_first() -> None:
    nodes = flame_tree(parse_collapsed(RAW), min_share=0)
    root = nodes[0]
    assert (root.id, root.parent, root.label, root.value) == (0, None, "all", 100)
    ids = {n.id: n for n in nodes}
    for node in nodes[1:]:
        assert node.parent is not None and node.parent < node.id
        assert node.value <= ids[node.parent].value
    labels = {n.label: n for n in nodes}
    assert labels["serve (app.py:10)"].value == 100  # both workers and the parent merged
    assert labels["handle (app.py:20)"].value == 90
    assert labels["hash_pw (auth.py:5)"].parent == labels["handle (app.py:20)"].id
    walks = [n for n in nodes if n.label == "walk (tree.py:3)"]
    assert [n.value for n in walks] == [9, 9, 9]  # a recursion is a column of boxes


def test_flame_tree_merges_narrow_boxes_into_their_parent() -> None:
    raw = "main (m.py:1);hot (m.py:5) 995\n" + "".join(
        f"main (m.py:1);cold{i} (m.py:{10 + i}) 1\n" for i in range(5)
    )
    nodes = flame_tree(parse_collapsed(raw), min_share=0.005)
    assert [n.label for n in nodes] == ["all", "main (m.py:1)", "hot (m.py:5)"]
    assert nodes[1].value == 1000  # the parent keeps the dropped boxes' width


def test_flame_tree_node_cap_keeps_the_widest_boxes() -> None:
    raw = "".join(f"main (m.py:1);f{i} (m.py:{i + 2}) {i + 1}\n" for i in range(100))
    nodes = flame_tree(parse_collapsed(raw), min_share=0, max_nodes=10)
    assert len(nodes) == 10
    assert {n.label for n in nodes[2:]} == {f"f{i} (m.py:{i + 2})" for i in range(92, 100)}


def test_no_samples_no_tree() -> None:
    assert flame_tree([]) == [] and top_functions([]) == [] and process_count([]) == 0


def test_threads_caught_waiting_are_left_out_of_a_cpu_profile() -> None:
    # an anyio worker thread parked on its queue, and one hashing a password
    raw = (
        "_bootstrap (threading.py:1);run (anyio/_backends/_asyncio.py:900);"
        "get (queue.py:154);Condition.wait (threading.py:320) 780\n"
        "_bootstrap (threading.py:1);run (anyio/_backends/_asyncio.py:900);"
        "_verify_sync (backend/security.py:40) 220\n"
    )
    stacks = parse_collapsed(raw)
    kept = working(stacks)
    assert sample_count(stacks) == 1000 and sample_count(kept) == 220
    assert top_functions(kept)[0].function == "_verify_sync"
