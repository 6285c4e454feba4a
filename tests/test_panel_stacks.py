"""signalkit.panels.stacks: send sites relative to the project, and stacks."""

from __future__ import annotations

import os
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
    frames = [frame_text(frame) for frame in recorder.stacks[id(send)]]
    assert frames[0] == "generated.py:1 in <module>"
    assert frames[1].startswith("test_panel_stacks.py:")
    assert frames[1].endswith(" in send_from_code_without_a_module_name")
    assert not any("_pytest/" in frame for frame in frames)
    assert not any(frame.startswith("signalkit/") for frame in frames)
