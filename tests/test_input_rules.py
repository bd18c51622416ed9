"""Rules checked the way the receiving side checks them, beyond the corpus (tests/corpus/):
the cron evaluation, the address-space sums, the date and window arithmetic."""

from __future__ import annotations

import pytest

from heimdall.settings import SettingsError, parse_settings


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
