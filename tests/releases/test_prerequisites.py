"""The pure prerequisite evaluation: each prerequisite pass/fail, the Friday cut-off, freeze windows across DST."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releases.rules.prerequisites import (
    BACKUP,
    CALENDAR,
    CI,
    E2E,
    FAIL,
    FREEZE,
    OVERRIDDEN,
    PASS,
    OverrideFact,
    ReleaseFacts,
    ReportFact,
    Rules,
    WindowFact,
    evaluate,
)

PARIS = ZoneInfo("Europe/Paris")
SHA = "0123456789abcdef0123456789abcdef01234567"
RULES = Rules(
    time_zone="Europe/Paris", friday_cutoff=time(16, 0), deploy=timedelta(minutes=15),
    watch=timedelta(minutes=30), backup_max_age=timedelta(hours=24),
)


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


# Wednesday 25 November 2026, 10:00 in Paris: an ordinary morning.
WEDNESDAY = paris(2026, 11, 25, 10, 0)


def green(at=WEDNESDAY, **changes) -> ReleaseFacts:
    facts = dict(
        sha=SHA, hotfix=False,
        reports=(
            ReportFact(1, CI, "success", SHA, at - timedelta(hours=1), "https://ci/1"),
            ReportFact(2, E2E, "success", SHA, at - timedelta(minutes=40), "https://ci/2"),
            ReportFact(3, BACKUP, "success", "", at - timedelta(hours=3), "https://backup/3"),
        ),
    )
    facts.update(changes)
    return ReleaseFacts(**facts)


def test_everything_green_on_a_wednesday_morning_allows_the_release_now():
    evaluation = evaluate(green(), at=WEDNESDAY, rules=RULES)
    assert [result.status for result in evaluation.results] == [PASS] * 5
    assert evaluation.allowed
    assert evaluation.next_allowed_at == WEDNESDAY
    assert evaluation.ends_at == WEDNESDAY + timedelta(minutes=45)
    assert evaluation.result(CI).url == "https://ci/1"
    assert "3.0 h old" in evaluation.result(BACKUP).evidence


@pytest.mark.parametrize(
    ("name", "facts", "evidence"),
    [
        (CI, green(sha=""), "no commit SHA"),
        (CI, green(reports=()), "No CI on main result reported"),
        (CI, green(reports=(ReportFact(1, CI, "failure", SHA, WEDNESDAY - timedelta(minutes=5)),)), "is failure"),
        (CI, green(reports=(ReportFact(1, CI, "success", "ffff" * 10, WEDNESDAY - timedelta(minutes=5)),)),
         "No CI on main result"),
        (E2E, green(reports=(ReportFact(1, E2E, "failure", SHA, WEDNESDAY - timedelta(minutes=5)),)), "is failure"),
        (E2E, green(reports=(ReportFact(1, CI, "success", SHA, WEDNESDAY),)), "No E2E on staging result"),
        (BACKUP, green(reports=()), "No verified backup"),
        (BACKUP, green(reports=(ReportFact(3, BACKUP, "success", "", WEDNESDAY - timedelta(hours=24)),)),
         "24.0 h old"),
        (BACKUP, green(reports=(ReportFact(3, BACKUP, "failure", "", WEDNESDAY - timedelta(hours=1)),)),
         "No verified backup"),
        (FREEZE, green(windows=(WindowFact(1, "Courses", paris(2026, 11, 25, 10, 30), paris(2026, 11, 25, 12, 0),
                                           "Europe/Paris"),)), "freeze 'Courses'"),
        (CALENDAR, green(at=paris(2026, 11, 28, 11, 0)), "Friday 16:00 to Monday 00:00"),
    ],
)
def test_each_prerequisite_fails_with_its_evidence(name, facts, evidence):
    at = paris(2026, 11, 28, 11, 0) if name == CALENDAR else WEDNESDAY
    evaluation = evaluate(facts, at=at, rules=RULES)
    result = evaluation.result(name)
    assert result.status == FAIL
    assert evidence in result.evidence
    assert not evaluation.allowed


def test_a_report_newer_than_the_instant_is_not_seen():
    facts = green(reports=(ReportFact(1, CI, "success", SHA, WEDNESDAY + timedelta(minutes=1)),))
    assert evaluate(facts, at=WEDNESDAY, rules=RULES).result(CI).status == FAIL


def test_the_latest_ci_report_wins():
    facts = green(reports=(
        ReportFact(1, CI, "failure", SHA, WEDNESDAY - timedelta(hours=2)),
        ReportFact(2, CI, "success", SHA, WEDNESDAY - timedelta(hours=1)),
    ))
    assert evaluate(facts, at=WEDNESDAY, rules=RULES).result(CI).status == PASS


def test_a_short_sha_matches_no_report_of_the_full_sha():
    """A 7-character prefix can name another commit (issue 17): only the full SHA matches."""
    assert evaluate(green(sha=SHA[:7]), at=WEDNESDAY, rules=RULES).result(CI).status != PASS


@pytest.mark.parametrize(
    ("local", "allowed"),
    [
        (paris(2026, 11, 27, 15, 14), True),   # ends 15:59
        (paris(2026, 11, 27, 15, 15), True),   # ends exactly 16:00
        (paris(2026, 11, 27, 15, 16), False),  # the watch would run past 16:00
        (paris(2026, 11, 27, 15, 59), False),
        (paris(2026, 11, 27, 16, 0), False),
        (paris(2026, 11, 28, 12, 0), False),   # Saturday
        (paris(2026, 11, 29, 23, 15), False),  # Sunday
        (paris(2026, 11, 30, 0, 0), True),     # Monday
        (paris(2026, 11, 26, 23, 0), True),    # Thursday night
    ],
)
def test_friday_cut_off_and_weekend_in_the_organisation_zone(local, allowed):
    evaluation = evaluate(green(at=local), at=local, rules=RULES)
    assert (evaluation.result(CALENDAR).status == PASS) is allowed


def test_friday_15_59_and_16_00_are_both_refused_and_the_next_start_is_monday_00_00():
    for local in (paris(2026, 11, 27, 15, 59), paris(2026, 11, 27, 16, 0)):
        evaluation = evaluate(green(at=local), at=local, rules=RULES)
        assert evaluation.result(CALENDAR).status == FAIL
        assert evaluation.next_allowed_at == paris(2026, 11, 30, 0, 0)
    assert "16:44" in evaluate(green(), at=paris(2026, 11, 27, 15, 59), rules=RULES).result(CALENDAR).evidence


def test_the_cut_off_is_configurable():
    rules = Rules(**{**RULES.__dict__, "friday_cutoff": time(12, 0)})
    evaluation = evaluate(green(), at=paris(2026, 11, 27, 11, 30), rules=rules)
    assert evaluation.result(CALENDAR).status == FAIL


def test_the_friday_cut_off_follows_daylight_saving_time():
    # 27 March 2026 is the Friday before Europe/Paris moves to summer time: 16:00 is 15:00 UTC.
    winter = datetime(2026, 3, 27, 14, 59, tzinfo=UTC)
    assert evaluate(green(at=winter), at=winter, rules=RULES).result(CALENDAR).status == FAIL
    assert evaluate(green(at=winter), at=winter - timedelta(minutes=45), rules=RULES).result(CALENDAR).status == PASS
    # A week later, summer time: 16:00 in Paris is 14:00 UTC.
    summer = datetime(2026, 4, 3, 13, 16, tzinfo=UTC)
    assert evaluate(green(at=summer), at=summer, rules=RULES).result(CALENDAR).status == FAIL
    assert evaluate(green(at=summer), at=summer - timedelta(minutes=1), rules=RULES).result(CALENDAR).status == PASS


def _window(start, end, zone="Europe/Paris"):
    return WindowFact(1, "Maintenance", datetime(*start, tzinfo=ZoneInfo(zone)), datetime(*end, tzinfo=ZoneInfo(zone)),
                      zone)


def _weekend_passed(window):
    """A hotfix with the weekend overridden, so only the freeze window decides."""
    return green(windows=(window,), hotfix=True, overrides=(_override(CALENDAR),))


def test_a_freeze_window_across_the_autumn_dst_change_lasts_its_real_length():
    # Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET, so 00:00 -> 06:00 local is seven real hours.
    window = _window((2026, 10, 25, 0, 0), (2026, 10, 25, 6, 0))
    assert window.ends_at.astimezone(UTC) - window.starts_at.astimezone(UTC) == timedelta(hours=7)
    facts = _weekend_passed(window)
    assert evaluate(facts, at=datetime(2026, 10, 25, 4, 59, tzinfo=UTC), rules=RULES).result(FREEZE).status == FAIL
    assert evaluate(facts, at=datetime(2026, 10, 24, 21, 15, tzinfo=UTC), rules=RULES).result(FREEZE).status == PASS
    evaluation = evaluate(facts, at=datetime(2026, 10, 24, 21, 16, tzinfo=UTC), rules=RULES)
    assert evaluation.result(FREEZE).status == FAIL
    assert evaluation.next_allowed_at == datetime(2026, 10, 25, 5, 0, tzinfo=UTC)


def test_a_freeze_window_across_the_spring_dst_change_ends_an_hour_earlier_in_utc():
    # Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST; 00:00 -> 06:00 local is five real hours.
    window = _window((2026, 3, 29, 0, 0), (2026, 3, 29, 6, 0))
    assert window.ends_at.astimezone(UTC) - window.starts_at.astimezone(UTC) == timedelta(hours=5)
    evaluation = evaluate(_weekend_passed(window), at=datetime(2026, 3, 29, 1, 0, tzinfo=UTC), rules=RULES)
    assert evaluation.result(FREEZE).status == FAIL
    assert evaluation.next_allowed_at == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)


def test_a_freeze_window_in_another_zone_is_compared_in_real_time():
    # 09:00-10:00 in New York on 2 November 2026 (after its DST change, before none in Paris) = 15:00-16:00 Paris.
    window = _window((2026, 11, 2, 9, 0), (2026, 11, 2, 10, 0), "America/New_York")
    facts = green(windows=(window,))
    assert evaluate(facts, at=paris(2026, 11, 2, 14, 14), rules=RULES).result(FREEZE).status == PASS
    assert evaluate(facts, at=paris(2026, 11, 2, 14, 16), rules=RULES).result(FREEZE).status == FAIL


def test_deploy_and_watch_must_end_before_a_freeze_starts():
    facts = green(windows=(_window((2026, 11, 25, 11, 0), (2026, 11, 25, 12, 0)),))
    assert evaluate(facts, at=paris(2026, 11, 25, 10, 15), rules=RULES).result(FREEZE).status == PASS
    evaluation = evaluate(facts, at=paris(2026, 11, 25, 10, 16), rules=RULES)
    assert evaluation.result(FREEZE).status == FAIL
    assert evaluation.next_allowed_at == paris(2026, 11, 25, 12, 0)


def test_the_next_allowed_instant_skips_a_freeze_that_runs_into_the_weekend():
    facts = green(windows=(_window((2026, 11, 27, 9, 0), (2026, 11, 27, 15, 30)),))
    evaluation = evaluate(facts, at=paris(2026, 11, 27, 10, 0), rules=RULES)
    assert evaluation.next_allowed_at == paris(2026, 11, 30, 0, 0)


def _override(name, sha=SHA):
    return OverrideFact(1, name, sha, "Backup job moved to tonight", "ana", "ben")


def test_an_approved_override_passes_a_failing_prerequisite_with_the_reason_as_evidence():
    facts = green(reports=(), overrides=(_override(CI), _override(E2E), _override(BACKUP)))
    evaluation = evaluate(facts, at=WEDNESDAY, rules=RULES)
    assert [evaluation.result(name).status for name in (CI, E2E, BACKUP)] == [OVERRIDDEN] * 3
    assert "Backup job moved to tonight" in evaluation.result(BACKUP).evidence
    assert "approved by ben" in evaluation.result(BACKUP).evidence
    assert evaluation.allowed


def test_an_override_given_for_another_sha_does_not_count():
    facts = green(reports=(), overrides=(_override(CI, sha="f" * 40),))
    assert evaluate(facts, at=WEDNESDAY, rules=RULES).result(CI).status == FAIL


def test_only_a_hotfix_may_pass_the_weekend_or_a_freeze_with_an_override():
    saturday = paris(2026, 11, 28, 11, 0)
    normal = green(at=saturday, overrides=(_override(CALENDAR),))
    result = evaluate(normal, at=saturday, rules=RULES).result(CALENDAR)
    assert result.status == FAIL and not result.overridable
    hotfix = green(at=saturday, hotfix=True, overrides=(_override(CALENDAR),))
    evaluation = evaluate(hotfix, at=saturday, rules=RULES)
    assert evaluation.result(CALENDAR).status == OVERRIDDEN
    assert evaluation.next_allowed_at == saturday


QUARTER = timedelta(minutes=15)
quarters = st.integers(min_value=0, max_value=4 * 24 * 6)


@settings(max_examples=40, deadline=None)
@given(
    start=quarters,
    windows=st.lists(st.tuples(quarters, st.integers(min_value=1, max_value=4 * 24)), max_size=3),
)
def test_next_allowed_instant_matches_a_brute_force_scan(start, windows):
    """Everything on a 15-minute grid: the first grid instant whose calendar and freeze checks pass."""
    origin = paris(2026, 11, 23, 0, 0)  # a Monday
    facts = green(at=origin, windows=tuple(
        WindowFact(index, f"w{index}", origin + QUARTER * begin, origin + QUARTER * (begin + length), "Europe/Paris")
        for index, (begin, length) in enumerate(windows)
    ))
    at = origin + QUARTER * start
    expected = None
    for step in range(4 * 24 * 14):
        candidate = at + QUARTER * step
        evaluation = evaluate(facts, at=candidate, rules=RULES)
        if evaluation.result(FREEZE).status == PASS and evaluation.result(CALENDAR).status == PASS:
            expected = candidate
            break
    assert evaluate(facts, at=at, rules=RULES).next_allowed_at == expected
