from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models.signals import post_save, pre_delete
from django.dispatch import Signal as DjangoSignal
from django.test import override_settings

from signalkit.catalog import (
    JSON_VERSION,
    build_catalog,
    receiver_module,
    render_dot,
    render_markdown,
    render_mermaid,
    render_table,
)
from testapp import receivers_zoo
from testapp.models import Post
from testapp.signals import legacy_event

Connect = Callable[..., None]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """Connect receivers for one test; disconnect them afterwards."""
    connected: list[tuple[DjangoSignal, Any, Any, Any]] = []

    def connect(
        signal: DjangoSignal,
        receiver: Any,
        *,
        sender: Any = None,
        weak: bool = False,
        dispatch_uid: str | None = None,
    ) -> None:
        signal.connect(receiver, sender=sender, weak=weak, dispatch_uid=dispatch_uid)
        connected.append((signal, receiver, sender, dispatch_uid))

    yield connect
    for signal, receiver, sender, dispatch_uid in connected:
        signal.disconnect(receiver, sender=sender, dispatch_uid=dispatch_uid)


@pytest.fixture(autouse=True)
def terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


@pytest.fixture
def zoo(connect: Connect) -> receivers_zoo.Listener:
    """legacy_event with receivers of every shape, one of them dead."""
    listener = receivers_zoo.Listener()
    connect(legacy_event, receivers_zoo.plain, sender=Post, dispatch_uid="zoo-plain")
    connect(legacy_event, receivers_zoo.anonymous)
    connect(legacy_event, receivers_zoo.partial)
    connect(legacy_event, listener.method, weak=True)
    connect(legacy_event, listener)
    connect(legacy_event, receivers_zoo.asynchronous, sender=Post)
    connect(legacy_event, outside_any_app)

    def short_lived(sender: Any, **kwargs: Any) -> None:
        pass  # pragma: no cover - never sent

    legacy_event.connect(short_lived)  # weak: dies with this frame
    del short_lived
    gc.collect()
    return listener


def outside_any_app(sender: Any, **kwargs: Any) -> None:
    pass  # pragma: no cover - never sent


def signal_data(name: str) -> dict[str, Any]:
    (data,) = build_catalog(signal=name)
    return data


def run(*args: str) -> str:
    out = StringIO()
    call_command("signals", *args, stdout=out)
    return out.getvalue()


# The catalog data


def test_catalog_lists_every_registered_signal_in_name_order() -> None:
    names = [data["name"] for data in build_catalog()]

    assert "testapp.signals.post_published" in names
    assert "django.db.models.signals.post_save" in names
    assert names == sorted(names)


def test_catalog_describes_a_declared_signal() -> None:
    data = signal_data("testapp.signals.comment_added")

    assert data == {
        "name": "testapp.signals.comment_added",
        "module": "testapp.signals",
        "app": "testapp",
        "builtin": False,
        "declared": True,
        "doc": "",
        "arguments": [
            {"name": "comment", "type": None, "description": "", "required": True},
            {"name": "notify", "type": None, "description": "", "required": False},
        ],
        "defined_at": data["defined_at"],
        "receivers": [],
    }
    assert "signals.py:" in data["defined_at"]


def test_catalog_shows_plain_signals_as_undeclared() -> None:
    data = signal_data("testapp.signals.legacy_event")

    assert data["declared"] is False
    assert data["arguments"] is None


def test_catalog_describes_receivers_of_every_shape(
    zoo: receivers_zoo.Listener,
) -> None:
    receivers = signal_data("testapp.signals.legacy_event")["receivers"]

    assert receivers == [
        {
            "name": "testapp.receivers_zoo.plain",
            "module": "testapp.receivers_zoo",
            "app": "testapp",
            "sender": "testapp.Post",
            "dispatch_uid": "zoo-plain",
            "weak": False,
            "is_async": False,
            "dead": False,
            "background": None,
        },
        {
            "name": "testapp.receivers_zoo.<lambda>",
            "module": "testapp.receivers_zoo",
            "app": "testapp",
            "sender": None,
            "dispatch_uid": None,
            "weak": False,
            "is_async": False,
            "dead": False,
            "background": None,
        },
        {
            "name": "functools.partial(testapp.receivers_zoo.with_prefix)",
            "module": "testapp.receivers_zoo",
            "app": "testapp",
            "sender": None,
            "dispatch_uid": None,
            "weak": False,
            "is_async": False,
            "dead": False,
            "background": None,
        },
        {
            "name": "testapp.receivers_zoo.Listener.method",
            "module": "testapp.receivers_zoo",
            "app": "testapp",
            "sender": None,
            "dispatch_uid": None,
            "weak": True,
            "is_async": False,
            "dead": False,
            "background": None,
        },
        {
            "name": "testapp.receivers_zoo.Listener()",
            "module": "testapp.receivers_zoo",
            "app": "testapp",
            "sender": None,
            "dispatch_uid": None,
            "weak": False,
            "is_async": False,
            "dead": False,
            "background": None,
        },
        {
            "name": "testapp.receivers_zoo.asynchronous",
            "module": "testapp.receivers_zoo",
            "app": "testapp",
            "sender": "testapp.Post",
            "dispatch_uid": None,
            "weak": False,
            "is_async": True,
            "dead": False,
            "background": None,
        },
        {
            "name": f"{__name__}.outside_any_app",
            "module": __name__,
            "app": None,
            "sender": None,
            "dispatch_uid": None,
            "weak": False,
            "is_async": False,
            "dead": False,
            "background": None,
        },
        {
            "name": "<dead weak reference>",
            "module": None,
            "app": None,
            "sender": None,
            "dispatch_uid": None,
            "weak": True,
            "is_async": False,
            "dead": True,
            "background": None,
        },
    ]


def test_receiver_module_unwraps_nested_partials() -> None:
    import functools

    nested = functools.partial(receivers_zoo.partial)

    assert receiver_module(nested) == "testapp.receivers_zoo"


def test_signal_filter_matches_a_dotted_name_exactly() -> None:
    names = [
        data["name"] for data in build_catalog(signal="testapp.signals.post_published")
    ]

    assert names == ["testapp.signals.post_published"]


def test_signal_filter_matches_a_substring_ignoring_case() -> None:
    names = [data["name"] for data in build_catalog(signal="POST_")]

    assert "testapp.signals.post_published" in names
    assert "django.db.models.signals.post_save" in names
    assert "django.db.models.signals.pre_save" not in names


def test_app_filter_keeps_signals_defined_in_the_app() -> None:
    names = [data["name"] for data in build_catalog(app="testapp")]

    assert names == [
        "testapp.signals.comment_added",
        "testapp.signals.legacy_event",
        "testapp.signals.post_published",
    ]


def test_app_filter_keeps_signals_received_in_the_app(connect: Connect) -> None:
    connect(pre_delete, receivers_zoo.plain)

    names = [data["name"] for data in build_catalog(app="testapp")]

    assert "django.db.models.signals.pre_delete" in names


def test_app_filter_accepts_the_dotted_app_name() -> None:
    names = [data["name"] for data in build_catalog(app="django.contrib.auth")]

    assert "django.contrib.auth.signals.user_logged_in" in names
    assert "testapp.signals.post_published" not in names


# The command


def test_command_lists_signals_with_arguments_docs_and_receivers() -> None:
    output = run("--signal", "testapp.signals.post_published")

    assert output == (
        "testapp.signals.post_published  [testapp, declared]\n"
        "  Sent after a blog post is published.\n"
        "  arguments:\n"
        "    post — The Post that was published\n"
        "    user — Who published it\n"
        "  receivers (1):\n"
        "    testapp.signals.remember_publication  sender=any  weak, sync\n"
        "\n"
        "1 signal, 1 receiver.\n"
    )


def test_command_shows_undeclared_signals_and_odd_receivers(
    zoo: receivers_zoo.Listener,
) -> None:
    output = run("--signal", "legacy_event")

    assert "testapp.signals.legacy_event  [testapp, undeclared]" in output
    assert "arguments: undeclared (a plain Django signal" in output
    assert re.search(
        r"\n    testapp\.receivers_zoo\.plain +sender=testapp\.Post +strong, sync +"
        r"uid=zoo-plain\n",
        output,
    )
    assert "    testapp.receivers_zoo.<lambda>  " in output
    assert "    <dead weak reference>  " in output
    assert output.endswith("1 signal, 8 receivers.\n")


def test_command_table_fits_the_terminal_width(
    zoo: receivers_zoo.Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")

    output = run("--signal", "legacy_event")

    assert (
        "    testapp.receivers_zoo.plain\n      sender=testapp.Post  strong" in output
    )
    assert max(len(line) for line in output.splitlines()) <= 60


def test_command_with_unknown_signal_is_a_command_error() -> None:
    with pytest.raises(
        CommandError,
        match=r"No registered signal matches 'testapp\.signals\.post_publishd'\. "
        r"Did you mean 'testapp\.signals\.post_published'",
    ):
        run("--signal", "testapp.signals.post_publishd")


def test_command_with_a_misspelt_short_signal_name_suggests_the_dotted_name() -> None:
    with pytest.raises(
        CommandError,
        match=r"No registered signal matches 'comment_addd'\. "
        r"Did you mean 'testapp\.signals\.comment_added'",
    ):
        run("--signal", "comment_addd")


def test_command_with_a_short_builtin_signal_name_suggests_the_dotted_name() -> None:
    with pytest.raises(
        CommandError, match=r"Did you mean 'django\.db\.models\.signals\.post_save'"
    ):
        run("--signal", "post_svae")


def test_command_with_a_far_off_signal_name_gives_no_suggestion() -> None:
    with pytest.raises(CommandError, match=r"matches 'zzzzzz'\.$"):
        run("--signal", "zzzzzz")


def test_command_with_unknown_app_is_a_command_error() -> None:
    with pytest.raises(
        CommandError, match=r"No installed app is labelled 'testap'\. Did you mean"
    ):
        run("--app", "testap")


def test_command_with_a_misspelt_dotted_app_name_suggests_the_name() -> None:
    with pytest.raises(
        CommandError,
        match=r"labelled 'djang\.contrib\.auth'\. "
        r"Did you mean 'django\.contrib\.auth' or ",
    ):
        run("--app", "djang.contrib.auth")


def test_command_with_a_far_off_app_lists_the_installed_apps() -> None:
    with pytest.raises(CommandError, match=r"'zzzzzz'\. Installed apps: auth, "):
        run("--app", "zzzzzz")


def test_command_exits_non_zero_on_an_unknown_app(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as raised:
        execute_from_command_line(["manage.py", "signals", "--app", "nope"])

    assert raised.value.code == 1
    assert "CommandError: No installed app is labelled 'nope'." in (
        capsys.readouterr().err
    )


def test_command_json_is_versioned_and_parses(zoo: receivers_zoo.Listener) -> None:
    document = json.loads(run("--format", "json", "--app", "testapp"))

    assert document["version"] == JSON_VERSION
    assert [data["name"] for data in document["signals"]] == [
        "testapp.signals.comment_added",
        "testapp.signals.legacy_event",
        "testapp.signals.post_published",
    ]
    assert document["signals"][1]["receivers"][0]["sender"] == "testapp.Post"


def test_command_markdown_has_a_section_per_signal() -> None:
    output = run("--format", "markdown", "--signal", "testapp.signals.post_published")

    assert output == (
        "# Signals\n"
        "\n"
        "## `testapp.signals.post_published`\n"
        "\n"
        "Sent after a blog post is published.\n"
        "\n"
        "Defined in `testapp.signals`, app `testapp`.\n"
        "\n"
        "| Argument | Type | Required | Description |\n"
        "| --- | --- | --- | --- |\n"
        "| `post` |  | yes | The Post that was published |\n"
        "| `user` |  | yes | Who published it |\n"
        "\n"
        "| Receiver | Sender | dispatch_uid | Reference | Mode |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `testapp.signals.remember_publication` | any |  | weak | sync |\n"
    )


def test_command_mermaid_draws_senders_signals_and_receivers(
    zoo: receivers_zoo.Listener,
) -> None:
    output = run("--format", "mermaid", "--signal", "legacy_event")

    assert output.startswith("flowchart LR\n")
    assert '    sender0["testapp.Post"]\n' in output
    assert '    signal0(["testapp.signals.legacy_event"])\n' in output
    assert '    receiver0["testapp.receivers_zoo.plain"]\n' in output
    assert '    receiver1["testapp.receivers_zoo.#lt;lambda#gt;"]\n' in output
    assert "    sender0 --> signal0\n" in output
    assert '    signal0 -->|"testapp.Post"| receiver0\n' in output
    assert "    signal0 --> receiver1\n" in output
    # Both receivers limited to Post share one sender edge.
    assert output.count("sender0 --> signal0") == 1


def test_command_dot_draws_senders_signals_and_receivers(
    zoo: receivers_zoo.Listener,
) -> None:
    output = run("--format", "dot", "--signal", "legacy_event")

    assert output.startswith("digraph signals {\n    rankdir=LR;\n")
    assert (
        '    sender0 [label="testapp.Post", shape=box, style=filled, '
        'fillcolor="#fef3c7"];\n'
    ) in output
    assert '    signal0 -> receiver0 [label="testapp.Post"];\n' in output
    assert "    signal0 -> receiver1;\n" in output
    assert output.endswith("}\n")


# Background receivers


BACKGROUND_SIGNAL = "tasks_receivers.post_published"


@pytest.fixture
def background_signal() -> str:
    import tasks_receivers  # noqa: F401  (connects its background receivers)

    return BACKGROUND_SIGNAL


def test_catalog_marks_background_receivers_with_queue_and_backend(
    background_signal: str,
) -> None:
    receivers = signal_data(background_signal)["receivers"]

    assert [(r["name"], r["dispatch_uid"], r["background"]) for r in receivers] == [
        (
            "tasks_receivers.notify_followers",
            None,
            {"queue": "default", "backend": "default", "priority": None},
        ),
        (
            "tasks_receivers.audit_publication",
            None,
            {"queue": "audit", "backend": "default", "priority": 5},
        ),
    ]


def test_catalog_keeps_the_dispatch_uid_given_to_a_background_receiver(
    connect: Connect,
) -> None:
    from signalkit.background import connect_background

    proxy = connect_background(legacy_event, receivers_zoo.plain, dispatch_uid="mine")
    try:
        [receiver] = signal_data("testapp.signals.legacy_event")["receivers"]
    finally:
        legacy_event.disconnect(proxy, dispatch_uid="mine")

    assert receiver["dispatch_uid"] == "mine"
    assert receiver["background"] is not None


def test_table_shows_background_receivers_as_background(
    background_signal: str,
) -> None:
    output = run("--signal", background_signal)

    assert (
        "    tasks_receivers.notify_followers   sender=any  "
        "background, queue=default, backend=default\n"
    ) in output
    assert (
        "    tasks_receivers.audit_publication  sender=any  "
        "background, queue=audit, backend=default, priority=5\n"
    ) in output
    assert "strong" not in output
    assert "signalkit.background:" not in output


def test_markdown_shows_background_receivers_as_background(
    background_signal: str,
) -> None:
    output = run("--format", "markdown", "--signal", background_signal)

    assert (
        "| `tasks_receivers.notify_followers` | any |  |  "
        "| background, queue default, backend default |\n"
    ) in output
    assert "signalkit.background:" not in output


def test_mermaid_draws_background_receivers_on_dotted_edges(
    background_signal: str,
) -> None:
    output = run("--format", "mermaid", "--signal", background_signal)

    assert (
        '    receiver0["tasks_receivers.notify_followers '
        '(background, queue default, backend default)"]\n'
    ) in output
    assert "    signal0 -.-> receiver0\n" in output
    assert "    class receiver0,receiver1 background\n" in output
    assert "class receiver0,receiver1 receiver" not in output


def test_dot_draws_background_receivers_dashed(background_signal: str) -> None:
    output = run("--format", "dot", "--signal", background_signal)

    assert (
        '    receiver1 [label="tasks_receivers.audit_publication (background, '
        'queue audit, backend default, priority 5)", shape=box, '
        'style="filled,dashed", fillcolor="#ede9fe"];\n'
    ) in output
    assert "    signal0 -> receiver1 [style=dashed];\n" in output


# The renderers, on hand-made data


def make_signal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "shop.signals.order_paid",
        "module": "shop.signals",
        "app": None,
        "builtin": False,
        "declared": True,
        "doc": "",
        "arguments": [],
        "defined_at": None,
        "receivers": [],
    }
    data.update(overrides)
    return data


def make_receiver(name: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "module": "shop.receivers",
        "app": None,
        "sender": None,
        "dispatch_uid": None,
        "weak": True,
        "is_async": False,
        "dead": False,
        "background": None,
    }
    data.update(overrides)
    return data


def test_table_wraps_long_docs_and_keeps_paragraphs() -> None:
    doc = "First paragraph " * 5 + "\n\n\n\nSecond paragraph."

    output = render_table([make_signal(doc=doc)], width=40)

    assert output.splitlines()[:6] == [
        "shop.signals.order_paid  [declared]",
        "  First paragraph First paragraph First",
        "  paragraph First paragraph First",
        "  paragraph",
        "  Second paragraph.",
        "  arguments: (none)",
    ]


def test_table_marks_builtin_signals_and_optional_arguments() -> None:
    arguments = [
        {"name": "order", "type": None, "description": "", "required": True},
        {"name": "note", "type": None, "description": "Free text", "required": False},
    ]

    output = render_table([make_signal(builtin=True, arguments=arguments)])

    assert "shop.signals.order_paid  [Django built-in]\n" in output
    assert "    order\n    note (optional) — Free text\n" in output
    assert "  receivers: (none)\n" in output


def test_table_puts_receiver_details_on_their_own_line_when_too_wide() -> None:
    receiver = make_receiver("shop.receivers." + "x" * 50, sender="shop.Order")

    output = render_table([make_signal(receivers=[receiver])], width=60)

    assert (
        "    shop.receivers." + "x" * 50 + "\n      sender=shop.Order  weak, sync\n"
    ) in output


def test_markdown_escapes_cells_and_marks_undeclared_and_builtin_signals() -> None:
    receiver = make_receiver("shop.receivers.pay", dispatch_uid="a`b|c", weak=False)
    receiver["is_async"] = True
    signals = [
        make_signal(
            arguments=None,
            builtin=True,
            app="shop",
            doc="Paid <b>|</b>",
            receivers=[receiver],
        ),
        make_signal(name="shop.signals.quiet"),
    ]

    output = render_markdown(signals)

    assert "Paid &lt;b&gt;\\|&lt;/b&gt;\n" in output
    assert "Defined in `shop.signals`, app `shop`, Django built-in.\n" in output
    assert "Arguments: undeclared (a plain Django signal).\n" in output
    assert "| `shop.receivers.pay` | any | a`b\\|c | strong | async |\n" in output
    assert "Arguments: none.\n\nNo receivers.\n" in output


def test_graphs_leave_out_builtin_signals_nobody_receives() -> None:
    signals = [
        make_signal(name="django.core.signals.quiet", builtin=True),
        make_signal(name="shop.signals.unheard"),
    ]

    assert render_mermaid(signals) == (
        'flowchart LR\n    signal0(["shop.signals.unheard"])\n'
        "    classDef signal fill:#dbeafe\n    class signal0 signal\n"
    )
    assert 'signal0 [label="shop.signals.unheard"' in render_dot(signals)
    assert "quiet" not in render_dot(signals)


def test_graphs_quote_labels() -> None:
    receiver = make_receiver('shop.receivers."quoted"', sender='say "hi"')

    signals = [make_signal(receivers=[receiver, dict(receiver)])]

    mermaid = render_mermaid(signals)
    assert '    receiver0["shop.receivers.#quot;quoted#quot;"]\n' in mermaid
    assert '    signal0 -->|"say #quot;hi#quot;"| receiver0\n' in mermaid
    assert mermaid.count("signal0 -->|") == 1
    dot = render_dot(signals)
    assert '[label="shop.receivers.\\"quoted\\""' in dot
    assert '    signal0 -> receiver0 [label="say \\"hi\\""];\n' in dot


def test_post_save_receivers_connected_with_sender_none_are_listed(
    connect: Connect,
) -> None:
    connect(post_save, receivers_zoo.plain)

    receivers = signal_data("django.db.models.signals.post_save")["receivers"]

    assert {
        "name": "testapp.receivers_zoo.plain",
        "sender": None,
    }.items() <= receivers[-1].items()


def test_command_says_why_autodiscovery_found_no_module() -> None:
    out, err = StringIO(), StringIO()
    with override_settings(SIGNALKIT_AUTODISCOVER_MODULES=["nothing_here"]):
        call_command("signals", "--format", "json", stdout=out, stderr=err)

    json.loads(out.getvalue())  # still a JSON document
    assert "Autodiscovery found no module" in err.getvalue()
    assert "'nothing_here'" in err.getvalue()


def test_catalog_gives_each_argument_of_a_typed_signal_its_type() -> None:
    import typed_signals  # noqa: F401  (declares the signals)

    (data,) = build_catalog(signal="typed_signals.post_published")

    assert data["arguments"] == [
        {
            "name": "post",
            "type": "Post",
            "description": "The Post that was published.",
            "required": True,
        },
        {
            "name": "user",
            "type": "User",
            "description": "Who published it",
            "required": True,
        },
        {
            "name": "note",
            "type": "str | None",
            "description": "A remark for the followers.",
            "required": False,
        },
    ]


def test_every_format_shows_the_types() -> None:
    import typed_signals  # noqa: F401  (declares the signals)

    table = run("--signal", "typed_signals.post_published")
    markdown = run("--format", "markdown", "--signal", "typed_signals.post_published")
    document = json.loads(
        run("--format", "json", "--signal", "typed_signals.post_published")
    )

    assert "    post: Post — The Post that was published." in table
    assert "    note: str | None (optional) — A remark for the followers." in table
    assert "| `note` | `str \\| None` | no | A remark for the followers. |" in markdown
    assert [arg["type"] for arg in document["signals"][0]["arguments"]] == [
        "Post",
        "User",
        "str | None",
    ]


def test_markdown_type_with_a_backtick_is_escaped_text() -> None:
    import typed_signals  # noqa: F401  (declares the signals)

    (data,) = build_catalog(signal="typed_signals.post_published")
    data["arguments"][0]["type"] = "Literal['`']"

    markdown = render_markdown([data])

    assert "| `post` | Literal['`'] | yes |" in markdown
