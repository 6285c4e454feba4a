"""signalkit.panels.stacks: send sites relative to the project, and stacks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import django
from django.dispatch import Signal

from signalkit.panels.stacks import (
    StackRecorder,
    frame_text,
    relative_path,
    relative_site,
)
from signalkit.pipeline import observing

ping = Signal()


def pong(sender: Any, **kwargs: Any) -> str:
    return "pong"


def test_a_file_is_shown_relative_to_its_sys_path_directory() -> None:
    here = os.path.abspath(__file__)

    assert relative_path(here) == "test_panel_stacks.py"  # tests/ is on sys.path


def test_a_file_in_site_packages_keeps_the_directory_name() -> None:
    assert relative_path(django.__file__ or "") == "site-packages/django/__init__.py"


def test_a_file_under_no_sys_path_directory_is_shown_as_it_is() -> None:
    assert relative_path("<string>") == "<string>"


def test_a_site_keeps_its_line_and_an_unknown_one_stays_unknown() -> None:
    assert relative_site(f"{os.path.abspath(__file__)}:12") == "test_panel_stacks.py:12"
    assert relative_site("<unknown>") == "<unknown>"


def send_from_code_without_a_module_name() -> StackRecorder:
    recorder = StackRecorder(fold_empty=False, hidden=("pytest", "_pytest"))
    code = compile("ping.send(sender=None)", "generated.py", "exec")
    ping.connect(pong)
    try:
        with observing(recorder):
            exec(code, {"ping": ping})  # globals without __name__
    finally:
        ping.disconnect(pong)
    return recorder


def test_a_stack_starts_at_the_site_and_leaves_hidden_modules_out() -> None:
    recorder = send_from_code_without_a_module_name()

    [send] = recorder.sends
    key = recorder.stack_key(send)
    assert key is not None
    frames = [frame_text(frame) for frame in recorder.frames(key)]
    assert frames[0] == "generated.py:1 in <module>"
    assert frames[1].startswith("test_panel_stacks.py:")
    assert frames[1].endswith(" in send_from_code_without_a_module_name")
    assert not any("_pytest/" in frame for frame in frames)
    assert not any(frame.startswith("signalkit/") for frame in frames)


def frames_of(recorder: StackRecorder) -> list[list[str]]:
    stacks = []
    for send in recorder.sends:
        key = recorder.stack_key(send)
        assert key is not None
        stacks.append([frame_text(frame) for frame in recorder.frames(key)])
    return stacks


def send_twice() -> None:
    ping.send(sender=None)
    ping.send(sender=None)


def send_and_yield() -> Iterator[None]:
    ping.send(sender=None)
    yield


def record_stacks(function: Callable[[], object]) -> list[list[str]]:
    recorder = StackRecorder(fold_empty=False, hidden=("pytest", "_pytest", "pluggy"))
    ping.connect(pong)
    try:
        with observing(recorder):
            function()
            function()
    finally:
        ping.disconnect(pong)
    return frames_of(recorder)


def test_sends_from_one_running_function_share_what_is_above_it() -> None:
    stacks = record_stacks(send_twice)

    # Each send's own line; the same callers above (walked once, then reused).
    assert [stack[0] for stack in stacks] == [
        stacks[0][0],
        stacks[1][0],
        stacks[0][0],
        stacks[1][0],
    ]
    assert stacks[0][0] != stacks[1][0]
    assert stacks[0][0].endswith(" in send_twice")
    assert (
        len({tuple(stack[1:]) for stack in stacks}) == 2
    )  # two lines of record_stacks
    assert all(" in record_stacks" in stack[1] for stack in stacks)


def test_a_send_from_a_generator_has_its_whole_stack() -> None:
    stacks = record_stacks(lambda: next(send_and_yield()))

    assert all(stack[0].endswith(" in send_and_yield") for stack in stacks)
    assert all(" in <lambda>" in stack[1] for stack in stacks)
    assert all(" in record_stacks" in stack[2] for stack in stacks)
