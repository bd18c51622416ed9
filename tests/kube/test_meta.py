"""heimdall/kube/meta.py: the recommended labels, selectors and object metadata."""

from __future__ import annotations

from heimdall.kube import meta
from heimdall.settings.guardrails import RESERVED_LABELS


def test_labels_are_the_selector_labels_plus_ownership() -> None:
    labels = meta.labels("heimdall-backup")
    assert meta.selector_labels("heimdall-backup").items() <= labels.items()
    assert labels == {
        "app.kubernetes.io/name": "heimdall-backup",
        "app.kubernetes.io/instance": "heimdall",
        "app.kubernetes.io/part-of": "heimdall",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def test_the_program_sets_exactly_the_labels_the_user_may_not() -> None:
    # The stack transform lets the user's labels win, which is safe only because these
    # keys are refused in settings `labels`.
    assert set(meta.labels("x")) == RESERVED_LABELS


def test_every_pod_of_the_stack_carries_the_stack_selector() -> None:
    for component in ("heimdall", "heimdall-migration", "postgres", "heimdall-backup"):
        assert meta.stack_selector_labels().items() <= meta.labels(component).items()


def test_metadata_without_a_name_is_left_to_auto_naming_and_takes_no_empty_annotations() -> None:
    metadata = meta.metadata("ns", "heimdall")
    assert metadata.name is None
    assert metadata.namespace == "ns"
    assert metadata.labels == meta.labels("heimdall")
    assert metadata.annotations is None


def test_metadata_keeps_the_given_annotations() -> None:
    metadata = meta.metadata("ns", "heimdall", "heimdall", annotations=meta.SKIP_AWAIT)
    assert metadata.name == "heimdall"
    assert metadata.annotations == {"pulumi.com/skipAwait": "true"}


def test_pod_metadata_puts_the_component_labels_over_the_pod_labels() -> None:
    metadata = meta.pod_metadata(
        "heimdall",
        {"team": "a", "app.kubernetes.io/name": "ignored"},
        {"note": "pod", "run": "old"},
        annotations={"run": "new"},
    )
    assert metadata.labels == {"team": "a", **meta.labels("heimdall")}
    assert metadata.annotations == {"note": "pod", "run": "new"}


def test_pod_metadata_without_annotations_has_none() -> None:
    assert meta.pod_metadata("heimdall", {}, {}).annotations is None
