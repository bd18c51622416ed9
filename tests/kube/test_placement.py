"""heimdall/kube/placement.py: where the stack's pods run."""

from __future__ import annotations

from heimdall.database.contract import Placement
from heimdall.kube.placement import Scheduling, heimdall_scheduling, node_placement
from heimdall.settings.guardrails import Toleration

WHERE = Placement(
    node_selector={"pool": "apps"},
    tolerations=(Toleration.model_validate({"key": "dedicated", "operator": "Equal", "value": "apps", "effect": "NoSchedule"}),),
    image_pull_secrets=("registry",),
)


def test_nothing_set_leaves_every_field_unset() -> None:
    assert node_placement(Placement()) == {"node_selector": None, "tolerations": None, "image_pull_secrets": None}


def test_node_placement_carries_selector_tolerations_and_pull_secrets() -> None:
    found = node_placement(WHERE)
    assert found["node_selector"] == {"pool": "apps"}
    (toleration,) = found["tolerations"]
    assert (toleration.key, toleration.operator, toleration.value, toleration.effect) == (
        "dedicated", "Equal", "apps", "NoSchedule",
    )
    assert [s.name for s in found["image_pull_secrets"]] == ["registry"]


def test_several_pods_are_spread_softly_over_nodes_by_default() -> None:
    found = heimdall_scheduling(Scheduling(placement=WHERE, several_pods=True), spread=True)
    (constraint,) = found["topology_spread_constraints"]
    assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
    assert constraint["topologyKey"] == "kubernetes.io/hostname"
    assert constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "heimdall"


def test_one_pod_or_a_job_gets_no_spread() -> None:
    one = heimdall_scheduling(Scheduling(placement=WHERE), spread=True)
    assert one["topology_spread_constraints"] is None
    job = heimdall_scheduling(Scheduling(placement=WHERE, several_pods=True))
    assert "topology_spread_constraints" not in job


def test_the_users_affinity_and_constraints_pass_as_they_are() -> None:
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}
    constraints = [{"maxSkew": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]
    found = heimdall_scheduling(
        Scheduling(placement=WHERE, affinity=affinity, topology_spread_constraints=constraints, several_pods=True),
        spread=True,
    )
    assert found["affinity"] == affinity
    assert found["topology_spread_constraints"] == constraints
    assert found["node_selector"] == {"pool": "apps"}


def test_an_empty_affinity_is_no_affinity() -> None:
    assert heimdall_scheduling(Scheduling(placement=WHERE, affinity={}))["affinity"] is None
