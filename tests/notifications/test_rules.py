"""Pure notification rules: segments, phones, templates, quiet hours, rate limits, retries, breaker, duties, replies."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain.breaker import Breaker, BreakerState
from services.notifications.domain.catalog import BUILTIN, relayed
from services.notifications.domain.duties import DEFAULT_RULES, Frequency, escalation_due, period_of, reminder_due
from services.notifications.domain.inbound import classify_reply
from services.notifications.domain.limits import Limit, next_allowed
from services.notifications.domain.phones import normalise_phone, phone_refusals
from services.notifications.domain.quiet import QuietHours, release_time
from services.notifications.domain.retry import RetryPolicy, Verdict, verdict_for_status
from services.notifications.domain.segments import count_segments
from services.notifications.domain.templates import render, template_refusals
from shared.clock import SHANGHAI
from shared.refusals import Refused

HAN = "扶"


class TestSegments:
    @pytest.mark.parametrize(
        ("text", "encoding", "segments"),
        [
            (HAN * 70, "ucs2", 1),
            (HAN * 71, "ucs2", 2),
            (HAN * 134, "ucs2", 2),
            (HAN * 135, "ucs2", 3),
            (HAN * 201, "ucs2", 3),
            (HAN * 202, "ucs2", 4),
            ("a" * 160, "gsm7", 1),
            ("a" * 161, "gsm7", 2),
            ("a" * 306, "gsm7", 2),
            ("a" * 307, "gsm7", 3),
            ("a" * 69 + HAN, "ucs2", 1),  # one Chinese character makes the whole text UCS-2
            ("a" * 70 + HAN, "ucs2", 2),
            ("{" * 80, "gsm7", 1),  # extension characters take two septets
            ("{" * 81, "gsm7", 2),
            ("😀" * 35, "ucs2", 1),  # outside the BMP: two UTF-16 units each
            ("😀" * 36, "ucs2", 2),
            ("", "gsm7", 0),
        ],
        ids=[
            "70 Chinese = 1",
            "71 Chinese = 2 (67 per part)",
            "134 Chinese = 2",
            "135 Chinese = 3",
            "201 Chinese = 3",
            "202 Chinese = 4",
            "160 GSM = 1",
            "161 GSM = 2 (153 per part)",
            "306 GSM = 2",
            "307 GSM = 3",
            "70 mixed = 1",
            "71 mixed = 2",
            "80 braces = 160 septets",
            "81 braces = 162 septets",
            "35 emoji = 70 units",
            "36 emoji = 72 units",
            "empty",
        ],
    )
    def test_boundaries(self, text: str, encoding: str, segments: int) -> None:
        count = count_segments(text)
        assert (count.encoding, count.segments) == (encoding, segments)

    def test_signature_counts_in_the_length(self) -> None:
        assert count_segments("【扶贫办】" + HAN * 65).segments == 1
        assert count_segments("【扶贫办】" + HAN * 66).segments == 2

    @given(st.text(alphabet="扶贫帮户村镇县", min_size=1, max_size=600))
    def test_parts_hold_the_text(self, text: str) -> None:
        count = count_segments(text)
        assert count.segments * count.per_segment >= count.units
        assert count.segments == 1 or (count.segments - 1) * 67 < count.units


class TestPhones:
    @pytest.mark.parametrize(
        ("raw", "normal"),
        [
            ("13812345678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("+8613812345678", "13812345678"),
            ("0086-138-1234-5678", "13812345678"),
            ("８６１３８１２３４５６７８", "13812345678"),
            ("１３８　１２３４　５６７８", "13812345678"),
            ("(138)1234-5678", "13812345678"),
        ],
        ids=["plain", "+86 spaced", "+86", "0086 dashes", "full-width 86", "full-width spaces", "brackets"],
    )
    def test_normalised(self, raw: str, normal: str) -> None:
        assert normalise_phone(raw) == normal
        assert phone_refusals(raw) == []

    @pytest.mark.parametrize("raw", ["1381234567", "23812345678", "138123456789", "0851-3456789", "phone"])
    def test_refused(self, raw: str) -> None:
        assert [r.code for r in phone_refusals(raw)] == ["not_a_mobile"]


class TestTemplates:
    BODY = "【普安扶贫】{helper}您好，请于{deadline}前联系帮扶户。"

    def test_a_good_template(self) -> None:
        assert template_refusals(body=self.BODY, parameters=["helper", "deadline"]) == []

    @pytest.mark.parametrize(
        ("body", "parameters", "codes"),
        [
            ("{helper}您好，请联系帮扶户。", ["helper"], ["no_signature"]),
            ("【普安扶贫】{helper}您好{day}", ["helper"], ["unknown_parameter"]),
            ("【普安扶贫】{helper}您好", ["helper", "day"], ["unused_parameter"]),
            ("【普安扶贫】{helper:>5}您好", ["helper"], ["bad_placeholder", "unused_parameter"]),
            ("【普安扶贫】{helper您好", ["helper"], ["bad_placeholder", "unused_parameter"]),
            ("【普安扶贫】您家{income}元", ["income"], ["sensitive_parameter"]),
            ("【扶】你好", [], ["no_signature"]),
        ],
        ids=[
            "no 【signature】",
            "undeclared parameter",
            "unused parameter",
            "format spec",
            "open brace",
            "income",
            "1-char signature",
        ],
    )
    def test_refused_at_creation(self, body: str, parameters: list[str], codes: list[str]) -> None:
        assert [r.code for r in template_refusals(body=body, parameters=parameters)] == codes

    def test_broadcast_needs_opt_out_hint(self) -> None:
        body = "【普安扶贫】10月17日扶贫日，欢迎参加。"
        assert [r.code for r in template_refusals(body=body, parameters=[], needs_opt_out=True)] == ["no_opt_out"]
        assert template_refusals(body=body + "回复TD退订", parameters=[], needs_opt_out=True) == []

    def test_render_refuses_missing_and_unknown_values(self) -> None:
        with pytest.raises(Refused) as caught:
            render(body=self.BODY, parameters=["helper", "deadline"], values={"helper": "王五", "extra": "x"})
        assert sorted(e["field"] for e in caught.value.errors()) == ["params.deadline", "params.extra"]

    def test_render_counts_segments(self) -> None:
        rendered = render(
            body=self.BODY, parameters=["helper", "deadline"], values={"helper": "王五", "deadline": "6月30日"}
        )
        assert rendered.text == "【普安扶贫】王五您好，请于6月30日前联系帮扶户。"
        assert (rendered.length.encoding, rendered.length.segments) == ("ucs2", 1)

    def test_every_builtin_template_is_valid(self) -> None:
        for code, builtin in BUILTIN.items():
            assert template_refusals(body=builtin.body, parameters=builtin.parameters) == [], code

    def test_relayed_keeps_the_signature_first(self) -> None:
        assert relayed("【扶贫办】明天开会。", household="张三户") == "【扶贫办】请转告张三户：明天开会。"


def at(hour: int, minute: int = 0, day: int = 16) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=SHANGHAI)


class TestQuietHours:
    @pytest.mark.parametrize(
        ("now", "urgent", "release"),
        [
            (at(10), False, at(10)),
            (at(20, 59), False, at(20, 59)),
            (at(21), False, at(8, day=17)),
            (at(23, 30), False, at(8, day=17)),
            (at(3), False, at(8)),
            (at(7, 59), False, at(8)),
            (at(8), False, at(8)),
            (at(23, 30), True, at(23, 30)),
        ],
        ids=[
            "10:00 goes",
            "20:59 goes",
            "21:00 waits",
            "23:30 waits to morning",
            "03:00 waits",
            "07:59 waits",
            "08:00 goes",
            "urgent goes",
        ],
    )
    def test_release(self, now: datetime, urgent: bool, release: datetime) -> None:
        assert release_time(now=now, quiet=QuietHours(), urgent=urgent) == release

    def test_utc_clock_is_read_in_shanghai(self) -> None:
        utc = datetime(2025, 6, 16, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai
        assert release_time(now=utc, quiet=QuietHours(), urgent=False) == at(8, day=17)

    def test_a_daytime_window(self) -> None:
        quiet = QuietHours(start=time(12), end=time(14))
        assert release_time(now=at(13), quiet=quiet, urgent=False) == at(14)


class TestRateLimits:
    LIMITS = (Limit(1, timedelta(minutes=1)), Limit(5, timedelta(hours=1)), Limit(10, timedelta(days=1)))

    def test_first_message_goes(self) -> None:
        assert next_allowed(sent=[], limits=self.LIMITS, now=at(10)) == at(10)

    def test_one_a_minute(self) -> None:
        assert next_allowed(sent=[at(10)], limits=self.LIMITS, now=at(10)) == at(10, 1)

    def test_five_an_hour(self) -> None:
        sent = [at(10, m) for m in (0, 2, 4, 6, 8)]
        assert next_allowed(sent=sent, limits=self.LIMITS, now=at(10, 10)) == at(11)

    def test_ten_a_day(self) -> None:
        sent = [at(h) for h in range(8, 18)]
        assert next_allowed(sent=sent, limits=self.LIMITS, now=at(18)) == at(8, day=17)

    @given(st.lists(st.integers(min_value=0, max_value=24 * 60 - 1), max_size=30))
    def test_the_answer_keeps_every_limit(self, minutes: list[int]) -> None:
        sent = [at(0) + timedelta(minutes=m) for m in minutes]
        now = at(0) + timedelta(days=1)
        when = next_allowed(sent=sent, limits=self.LIMITS, now=now)
        for limit in self.LIMITS:
            assert sum(when - limit.window < t <= when for t in sent) < limit.count


class TestRetry:
    @pytest.mark.parametrize(
        ("status", "verdict"),
        [
            (200, Verdict.accepted),
            (202, Verdict.accepted),
            (500, Verdict.retry),
            (503, Verdict.retry),
            (429, Verdict.retry),
            (400, Verdict.rejected),
            (401, Verdict.rejected),
            (404, Verdict.rejected),
        ],
    )
    def test_status(self, status: int, verdict: Verdict) -> None:
        assert verdict_for_status(status) is verdict

    def test_backoff_doubles_to_a_cap(self) -> None:
        policy = RetryPolicy(max_attempts=5, base=timedelta(seconds=30), cap=timedelta(minutes=2))
        assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 120]
        assert not policy.gives_up(4) and policy.gives_up(5)


class TestBreaker:
    def test_opens_after_threshold_and_probes_after_cool_down(self) -> None:
        breaker = Breaker(threshold=3, cool_down=timedelta(seconds=60))
        for _ in range(2):
            breaker = breaker.failed(at(10))
        assert breaker.state is BreakerState.closed
        breaker = breaker.failed(at(10))
        assert breaker.state is BreakerState.open
        assert breaker.admit(at(10, 0))[1] == 0
        breaker, admitted = breaker.admit(at(10, 1))
        assert (breaker.state, admitted) == (BreakerState.half_open, 1)
        assert breaker.failed(at(10, 1)).state is BreakerState.open
        assert breaker.succeeded().state is BreakerState.closed

    def test_success_resets_the_count(self) -> None:
        breaker = Breaker(threshold=2).failed(at(10)).succeeded().failed(at(10))
        assert breaker.state is BreakerState.closed


class TestDuties:
    @pytest.mark.parametrize(
        ("day", "frequency", "key", "start", "end"),
        [
            (date(2025, 6, 16), Frequency.monthly, "2025-06", date(2025, 6, 1), date(2025, 6, 30)),
            (date(2025, 2, 10), Frequency.monthly, "2025-02", date(2025, 2, 1), date(2025, 2, 28)),
            (date(2025, 6, 16), Frequency.quarterly, "2025-Q2", date(2025, 4, 1), date(2025, 6, 30)),
            (date(2025, 12, 31), Frequency.quarterly, "2025-Q4", date(2025, 10, 1), date(2025, 12, 31)),
            (date(2025, 7, 1), Frequency.half_yearly, "2025-H2", date(2025, 7, 1), date(2025, 12, 31)),
            (date(2025, 6, 16), Frequency.yearly, "2025", date(2025, 1, 1), date(2025, 12, 31)),
        ],
    )
    def test_periods(self, day: date, frequency: Frequency, key: str, start: date, end: date) -> None:
        period = period_of(day, frequency)
        assert (period.key, period.start, period.end) == (key, start, end)

    def test_monthly_contact_reminds_on_the_20th_and_escalates_on_the_1st(self) -> None:
        rule = next(r for r in DEFAULT_RULES if r.code == "monthly_contact")
        assert reminder_due(rule, date(2025, 6, 19)) is None
        assert reminder_due(rule, date(2025, 6, 20)).key == "2025-06"  # type: ignore[union-attr]
        assert escalation_due(rule, date(2025, 7, 1)).key == "2025-06"  # type: ignore[union-attr]
        assert escalation_due(rule, date(2025, 7, 2)) is None


class TestReplies:
    @pytest.mark.parametrize(
        ("text", "kind", "topic"),
        [
            ("TD", "opt_out", None),
            (" td ", "opt_out", None),
            ("ＴＤ", "opt_out", None),
            ("退订", "opt_out", None),
            ("R", "opt_out", None),
            ("异议 张三家有轿车", "keyword", "objection"),
            ("YY：不同意", "keyword", "objection"),
            ("投诉村干部", "keyword", "complaint"),
            ("好的，谢谢", "other", None),
        ],
        ids=["TD", "td spaced", "full-width TD", "退订", "R", "异议", "YY", "投诉", "thanks"],
    )
    def test_classify(self, text: str, kind: str, topic: str | None) -> None:
        reply = classify_reply(text)
        assert (reply.kind, reply.topic) == (kind, topic)

    def test_keyword_rest_is_kept(self) -> None:
        assert classify_reply("异议：张三家有轿车").rest == "张三家有轿车"
