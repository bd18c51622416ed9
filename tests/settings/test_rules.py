"""Rules checked the way the receiving side checks them, beyond the corpus (tests/corpus/):
the cron evaluation, the address-space sums, the date and window arithmetic."""

from __future__ import annotations

import pytest

from heimdall.settings.loader import SettingsError, parse_settings


@pytest.mark.parametrize(
    ("schedule", "fires"),
    [
        ("0 3 31 2 *", False),
        ("0 3 30 2 *", False),
        ("0 3 31 4,6,9,11 *", False),
        ("0 3 31 2,3 *", True),  # March 31 exists
        ("0 3 29 2 *", True),  # leap years
        ("0 3 31 2 1", True),  # robfig/cron dayMatches: day-of-month OR day-of-week
        ("0 3 30-31 FEB *", False),
        ("0 3 */10 2 *", True),
        ("0 3 31 */2 *", True),  # months 1,3,5,...: January has 31 days
        ("0 3 31 2/2 *", True),  # 2,4,...,12: December has 31 days
        ("0 3 31 2-4/2 *", False),  # 2 and 4
        ("@monthly", True),
    ],
)
def test_a_schedule_that_never_fires_is_refused(schedule: str, fires: bool) -> None:
    values = {"backup": {"schedule": schedule}}
    if fires:
        parse_settings(values)
    else:
        with pytest.raises(SettingsError, match=r"^heimdall:backup\.schedule = .*never fires"):
            parse_settings(values)


@pytest.mark.parametrize(
    ("networks", "open_"),
    [
        (["0.0.0.0/1", "128.0.0.0/1"], True),
        (["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6"], True),
        (["8.0.0.0/7"], True),  # two /8s of public space
        (["8.0.0.0/8"], False),  # an organisation's own /8
        (["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"], False),  # private: no public address
        (["203.0.113.0/24", "198.51.100.7/32"], False),
        (["2000::/3"], True),
        (["2001:db8::/32", "2a00:1450::/32"], False),
    ],
)
def test_cidr_sets_open_to_the_internet_are_refused_however_spelled(networks: list[str], open_: bool) -> None:
    import ipaddress

    from heimdall.settings.types import open_to_internet

    assert (open_to_internet([ipaddress.ip_network(n) for n in networks]) is not None) == open_


def test_azure_ranges_are_summed_as_address_space() -> None:
    values = {"database": {"provider": "azure-postgres", "username": "heimdall", "azure": {
        "publicAccess": True, "allowedIpRanges": ["1.0.0.0-127.255.255.255", "128.0.0.0/1"]}}}
    with pytest.raises(SettingsError, match=r"^heimdall:database\.azure\.allowedIpRanges = .*open to the Internet"):
        parse_settings(values)
