"""The private SDK APIs the project borrows (heimdall/sdk_private.py): still there in the
pinned SDKs, and borrowed nowhere else."""

from __future__ import annotations

import re
from typing import Any

import pytest

from heimdall import sdk_private
from tests.conftest import REPO

PRIVATE = re.compile(
    r"pulumi(_\w+)?\.(runtime\.)?_\w+"  # pulumi.runtime._callbacks, pulumi_kubernetes._tables
    r"|from pulumi(_\w+)?(\.\w+)* import _\w+"  # from pulumi.runtime.mocks import _resolve_callbacks
    r"|from pulumi(_\w+)?(\.runtime)? import _\w+"
    r"|pulumi\.runtime\.(config|settings)|from pulumi\.runtime import (config|settings)"
)


def test_the_pinned_sdks_still_have_every_borrowed_private_api() -> None:
    problems = sdk_private.check()
    assert problems == [], "\n".join(problems)


def test_a_changed_private_api_is_named_in_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime import _callbacks, mocks

    monkeypatch.delattr(mocks, "_resolve_callbacks")
    monkeypatch.setattr(_callbacks._CallbackServicer, "_servicers", None)
    problems = sdk_private.check()
    assert problems == [
        "pinned-SDK private API changed: _CallbackServicer._servicers is no list "
        "(update heimdall/sdk_private.py)",
        "pinned-SDK private API changed: pulumi.runtime.mocks._resolve_callbacks is gone "
        "(update heimdall/sdk_private.py)",
    ]


def test_a_hook_wrapper_that_needs_more_of_its_server_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime._callbacks import _CallbackServicer

    def changed(self: Any, hook: Any) -> Any:
        return self._loop, self._callbacks

    monkeypatch.setattr(_CallbackServicer, "do_register_resource_hook", changed)
    (problem,) = sdk_private.check()
    assert "do_register_resource_hook now uses self.['_callbacks', '_loop']" in problem


def test_no_other_module_borrows_a_private_sdk_api() -> None:
    offenders = []
    paths = [*(REPO / "heimdall").rglob("*.py"), *(REPO / "policy").rglob("*.py"), *(REPO / "tests").rglob("*.py")]
    for path in sorted(paths):
        if path.name in ("sdk_private.py", "test_sdk_private.py"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if PRIVATE.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == [], "use heimdall/sdk_private.py instead:\n" + "\n".join(offenders)
