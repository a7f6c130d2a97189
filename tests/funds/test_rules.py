"""Pure funds rules, table-driven with the Chinese term in each case id, and hypothesis for the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.funds.domain import anomalies as an
from services.funds.domain.assets import Movement, MovementRequest, Restrictions, TransferScope, check_movement
from services.funds.domain.eligibility import StatusEvent, check_payee, recognised_on
from services.funds.domain.ledger import (
    AccountKind,
    Posting,
    balances_of,
    check_postings,
    check_reversal,
    reversing,
    transfer,
)
from services.funds.domain.payments import PaymentStatus, batch_closed, check_move
from services.funds.domain.policy import (
    DEFAULT_RULES,
    AllocationFact,
    CapRule,
    PaidLine,
    ProjectKind,
    RuleSetBody,
    RuleSetScope,
    SourceKind,
    SourceLevel,
    check_caps,
    check_once_per_period,
    pick_rule_set,
    share_status,
)
from services.funds.domain.reconciliation import LineOutcome, SentPayment, StatementLine, match_lines

D = Decimal
VILLAGE = "522323109001"


def codes(refusals: list) -> list[str]:
    return [r.code for r in refusals]


class TestPostings:
    KINDS = {"src": AccountKind.source, "bud": AccountKind.budget, "prj": AccountKind.project}

    @pytest.mark.parametrize(
        ("postings", "balances", "expected"),
        [
            pytest.param(
                transfer(from_account="src", to_account="bud", amount=D("100.00")), {}, [], id="资金到位 arrival"
            ),
            pytest.param(
                transfer(from_account="bud", to_account="prj", amount=D("100.01")),
                {"bud": D("100.00")},
                ["insufficient_balance"],
                id="超额分配 budget below zero",
            ),
            pytest.param(
                [Posting("bud", D("-5.00")), Posting("prj", D("4.00"))],
                {"bud": D("10.00")},
                ["unbalanced"],
                id="借贷不平 unbalanced",
            ),
            pytest.param([Posting("bud", D("0.00")), Posting("prj", D("0.00"))], {}, ["bad_amount"] * 2, id="零金额"),
            pytest.param([Posting("bud", D("1.005")), Posting("prj", D("-1.005"))], {}, ["bad_amount"] * 2, id="厘"),
            pytest.param([Posting("src", D("-1.00"))], {}, ["too_few_postings", "unbalanced"], id="单边 one entry"),
            pytest.param(
                transfer(from_account="nope", to_account="bud", amount=D("1.00")), {}, ["unknown_account"], id="无账户"
            ),
        ],
    )
    def test_table(self, postings, balances, expected):
        assert codes(check_postings(postings, kinds=self.KINDS, balances=balances)) == expected

    def test_a_source_may_go_below_zero_the_rest_may_not(self):
        assert (
            check_postings(
                transfer(from_account="src", to_account="bud", amount=D("9.99")), kinds=self.KINDS, balances={}
            )
            == []
        )
        refusals = check_postings(
            transfer(from_account="prj", to_account="bud", amount=D("1.00")), kinds=self.KINDS, balances={}
        )
        assert refusals[0].field == "postings.0.amount"

    def test_reversal_is_the_opposite_and_only_once(self):
        original = transfer(from_account="src", to_account="bud", amount=D("50.00"))
        assert balances_of(original + reversing(original)) == {"src": D("0.00"), "bud": D("0.00")}
        assert codes(check_reversal(already_reversed=True, is_reversal=False)) == ["already_reversed"]
        assert codes(check_reversal(already_reversed=False, is_reversal=True)) == ["reversal_of_reversal"]
        assert check_reversal(already_reversed=False, is_reversal=False) == []


ACCOUNTS = {
    "central": AccountKind.source,
    "county": AccountKind.source,
    "budget-a": AccountKind.budget,
    "budget-b": AccountKind.budget,
    "project-1": AccountKind.project,
    "project-2": AccountKind.project,
    "clearing": AccountKind.clearing,
    "payee-1": AccountKind.payee,
    "payee-2": AccountKind.payee,
    "pool": AccountKind.pool,
}
operation = st.one_of(
    st.tuples(
        st.just("move"),
        st.sampled_from(sorted(ACCOUNTS)),
        st.sampled_from(sorted(ACCOUNTS)),
        st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2),
    ),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50)),
)


class TestLedgerProperties:
    @settings(max_examples=200, deadline=None)
    @given(st.lists(operation, max_size=40))
    def test_balanced_after_any_sequence(self, ops):
        """复式记账: whatever is tried, accepted transactions sum to zero, and no account but a source is negative."""
        journal: list[list[Posting]] = []
        reversed_: set[int] = set()
        reversals: set[int] = set()
        for op in ops:
            balances = balances_of(p for t in journal for p in t)
            if op[0] == "move":
                _, a, b, amount = op
                candidate = transfer(from_account=a, to_account=b, amount=amount) if a != b else []
                target = None
            else:
                if not journal:
                    continue
                target = op[1] % len(journal)
                if check_reversal(already_reversed=target in reversed_, is_reversal=target in reversals):
                    continue
                candidate = reversing(journal[target])
            if candidate and not check_postings(candidate, kinds=ACCOUNTS, balances=balances):
                journal.append(candidate)
                if target is not None:
                    reversed_.add(target)
                    reversals.add(len(journal) - 1)
        entries = [p for t in journal for p in t]
        final = balances_of(entries)
        assert sum(final.values(), D("0")) == 0
        assert all(v >= 0 for k, v in final.items() if ACCOUNTS[k] is not AccountKind.source)
        assert all(sum((p.amount for p in t), D("0")) == 0 for t in journal)


def fact(amount: str, source: SourceKind, project: ProjectKind, direct: bool = False) -> AllocationFact:
    return AllocationFact(D(amount), source, project, direct)


class TestShareRules:
    INDUSTRY, HOUSEHOLDS = DEFAULT_RULES.shares

    @pytest.mark.parametrize(
        ("facts", "ratio", "breached"),
        [
            pytest.param(
                [
                    fact("70", SourceKind.fiscal_poverty, ProjectKind.industry),
                    fact("30", SourceKind.fiscal_poverty, ProjectKind.infrastructure),
                ],
                D("0.7000"),
                False,
                id="70%用于产业开发 exactly 70",
            ),
            pytest.param(
                [
                    fact("69.99", SourceKind.fiscal_poverty, ProjectKind.industry),
                    fact("30.01", SourceKind.fiscal_poverty, ProjectKind.infrastructure),
                ],
                D("0.6999"),
                True,
                id="70%用于产业开发 breached by a fen",
            ),
            pytest.param(
                [
                    fact("10", SourceKind.fiscal_poverty, ProjectKind.industry),
                    fact("900", SourceKind.social_donation, ProjectKind.infrastructure),
                ],
                D("1.0000"),
                False,
                id="社会帮扶 not counted",
            ),
            pytest.param([], None, False, id="无资金 nothing to measure"),
        ],
    )
    def test_industry_share(self, facts, ratio, breached):
        status = share_status(self.INDUSTRY, facts)
        assert (status.ratio, status.breached) == (ratio, breached)

    @pytest.mark.parametrize(
        ("direct", "other", "breached"),
        [
            pytest.param("70", "30", False, id="70%直接扶持到农户 held"),
            pytest.param("60", "40", True, id="70%直接扶持到农户 breached"),
        ],
    )
    def test_industry_to_households(self, direct, other, breached):
        facts = [
            fact(direct, SourceKind.fiscal_poverty, ProjectKind.industry, True),
            fact(other, SourceKind.fiscal_poverty, ProjectKind.industry, False),
            fact("1000", SourceKind.fiscal_poverty, ProjectKind.infrastructure, False),
        ]
        assert share_status(self.HOUSEHOLDS, facts).breached is breached


class TestCaps:
    RULES = DEFAULT_RULES.caps

    @pytest.mark.parametrize(
        ("earlier", "amount", "level", "cost", "expected"),
        [
            pytest.param([], "40000", SourceLevel.central, D("60000"), [], id="D级危房 4万 exactly"),
            pytest.param(
                [PaidLine(D("25000"), SourceLevel.central), PaidLine(D("10000"), SourceLevel.provincial)],
                "5000.01",
                SourceLevel.county,
                D("90000"),
                ["over_cap:dangerous_house_d"],
                id="三级合计超4万",
            ),
            pytest.param(
                [PaidLine(D("30000"), SourceLevel.central)],
                "8000",
                SourceLevel.county,
                D("35000"),
                ["over_cost:dangerous_house_d"],
                id="补助不超过建房成本",
            ),
            pytest.param([], "1000", SourceLevel.central, None, ["cost_missing:dangerous_house_d"], id="缺建房成本"),
            pytest.param(
                [PaidLine(D("40000"), SourceLevel.central)],
                "5000",
                SourceLevel.social,
                D("90000"),
                [],
                id="扶贫部门补差 social top-up outside the three levels",
            ),
        ],
    )
    def test_dangerous_house(self, earlier, amount, level, cost, expected):
        refusals = check_caps(
            self.RULES,
            project_kind=ProjectKind.dangerous_house,
            earlier=earlier,
            amount=D(amount),
            level=level,
            cost=cost,
        )
        assert codes(refusals) == expected

    def test_other_kinds_are_not_capped_by_the_house_rule(self):
        assert (
            check_caps(
                self.RULES,
                project_kind=ProjectKind.education,
                earlier=[],
                amount=D("99999"),
                level=SourceLevel.central,
                cost=None,
            )
            == []
        )

    def test_per_household_per_project_cap_as_data(self):
        rule = CapRule(code="industry_per_household", project_kind=ProjectKind.industry, amount=D("5000"))
        refusals = check_caps(
            [rule],
            project_kind=ProjectKind.industry,
            earlier=[PaidLine(D("3000"), SourceLevel.county)],
            amount=D("2000.01"),
            level=SourceLevel.city,
            cost=None,
        )
        assert codes(refusals) == ["over_cap:industry_per_household"]

    @pytest.mark.parametrize(
        ("subsidy", "period", "earlier", "expected"),
        [
            pytest.param("yulu", "2025", [("yulu", "2024")], [], id="雨露计划 next year"),
            pytest.param("yulu", "2025", [("yulu", "2025")], ["already_paid_in_period"], id="雨露计划 twice a year"),
            pytest.param("yulu", None, [], ["period_missing"], id="无期间"),
            pytest.param(None, None, [("yulu", "2025")], [], id="not a subsidy"),
        ],
    )
    def test_once_per_period(self, subsidy, period, earlier, expected):
        assert codes(check_once_per_period(subsidy_code=subsidy, period=period, earlier=earlier)) == expected

    def test_narrowest_jurisdiction_wins(self):
        township = RuleSetBody(idle_days=30)
        county = RuleSetBody(idle_days=90)
        rules = [RuleSetScope("522323", 2025, county), RuleSetScope("522323109", 2025, township)]
        assert pick_rule_set(rules, region_code=VILLAGE, year=2025).idle_days == 30
        assert pick_rule_set(rules, region_code="522323101001", year=2025).idle_days == 90
        assert pick_rule_set(rules, region_code=VILLAGE, year=2024) is DEFAULT_RULES


class TestEligibility:
    APPROVED = StatusEvent("household.approved", date(2024, 3, 1))
    EXITED = StatusEvent("household.exited", date(2025, 1, 10))

    @pytest.mark.parametrize(
        ("events", "died", "day", "expected"),
        [
            pytest.param([APPROVED], None, date(2024, 5, 1), [], id="建档立卡户 recognised"),
            pytest.param([], None, date(2024, 5, 1), ["payee_not_recognised"], id="非贫困户"),
            pytest.param([APPROVED], None, date(2024, 2, 28), ["payee_not_recognised"], id="识别前"),
            pytest.param([APPROVED, EXITED], None, date(2025, 1, 10), ["payee_not_recognised"], id="已脱贫 exit day"),
            pytest.param(
                [APPROVED, EXITED, StatusEvent("household.returned", date(2025, 6, 1))],
                None,
                date(2025, 6, 2),
                [],
                id="返贫 returned",
            ),
            pytest.param([APPROVED], date(2024, 4, 30), date(2024, 5, 1), ["payee_deceased"], id="死亡后发放"),
            pytest.param([APPROVED], date(2024, 5, 2), date(2024, 5, 1), [], id="死亡前发放"),
        ],
    )
    def test_payee(self, events, died, day, expected):
        refusals = check_payee(to_poor_only=True, household_events=events, died_on=died, pay_date=day)
        assert codes(refusals) == expected

    def test_not_marked_for_poor_households_needs_no_recognition(self):
        assert check_payee(to_poor_only=False, household_events=[], died_on=None, pay_date=date(2025, 1, 1)) == []
        assert recognised_on([self.EXITED, self.APPROVED], date(2024, 12, 31))


class TestAssets:
    SHEEP = Restrictions(
        scope=TransferScope.village,
        poor_households_only=True,
        locked_until=date(2028, 3, 1),
        disposal_needs_approval=True,
    )

    @pytest.mark.parametrize(
        ("request_", "expected"),
        [
            pytest.param(
                MovementRequest(Movement.transfer, date(2025, 6, 1), VILLAGE, VILLAGE, True),
                [],
                id="母羊村内贫困户间交易",
            ),
            pytest.param(
                MovementRequest(Movement.transfer, date(2025, 6, 1), VILLAGE, "522323109002", True),
                ["outside_transfer_scope"],
                id="母羊卖出本村",
            ),
            pytest.param(
                MovementRequest(Movement.transfer, date(2025, 6, 1), VILLAGE, VILLAGE, False),
                ["recipient_not_poor"],
                id="卖给非贫困户",
            ),
            pytest.param(
                MovementRequest(
                    Movement.disposal, date(2026, 1, 1), VILLAGE, approved_by="cadre", requested_by="owner"
                ),
                ["locked_up"],
                id="3年内宰杀",
            ),
            pytest.param(
                MovementRequest(Movement.disposal, date(2028, 3, 1), VILLAGE, requested_by="owner"),
                ["approval_required"],
                id="未经村干部查验出售",
            ),
            pytest.param(
                MovementRequest(
                    Movement.disposal, date(2028, 3, 1), VILLAGE, approved_by="owner", requested_by="owner"
                ),
                ["self_approval"],
                id="自己批准",
            ),
            pytest.param(
                MovementRequest(
                    Movement.disposal, date(2028, 3, 1), VILLAGE, approved_by="cadre", requested_by="owner"
                ),
                [],
                id="期满查验后出售",
            ),
            pytest.param(MovementRequest(Movement.natural_loss, date(2025, 1, 1), VILLAGE), [], id="自然死亡"),
        ],
    )
    def test_sheep_case(self, request_, expected):
        assert codes(check_movement(self.SHEEP, request_)) == expected


class TestPayments:
    def test_moves(self):
        assert check_move(PaymentStatus.pending, PaymentStatus.sent) == []
        assert check_move(PaymentStatus.failed, PaymentStatus.reissued) == []
        assert codes(check_move(PaymentStatus.pending, PaymentStatus.paid)) == ["bad_status_move"]
        assert codes(check_move(PaymentStatus.paid, PaymentStatus.failed)) == ["bad_status_move"]
        assert batch_closed([PaymentStatus.paid, PaymentStatus.reissued])
        assert not batch_closed([PaymentStatus.paid, PaymentStatus.failed])


class TestReconciliation:
    SENT = {
        "R1": SentPayment("p1", "R1", D("3000.00"), "sent"),
        "R2": SentPayment("p2", "R2", D("600.00"), "sent"),
        "R3": SentPayment("p3", "R3", D("100.00"), "paid"),
    }

    @pytest.mark.parametrize(
        ("line", "outcome"),
        [
            pytest.param(StatementLine(2, "R1", D("3000.00"), "成功"), LineOutcome.paid, id="入账成功"),
            pytest.param(StatementLine(2, "R2", D("600.00"), "账户不存在"), LineOutcome.failed, id="账户不存在 failed"),
            pytest.param(StatementLine(2, "R9", D("600.00"), "成功"), LineOutcome.unmatched, id="未知流水"),
            pytest.param(StatementLine(2, "R1", D("2999.99"), "成功"), LineOutcome.unmatched, id="金额不符"),
            pytest.param(StatementLine(2, "R3", D("100.00"), "成功"), LineOutcome.unmatched, id="已对账"),
            pytest.param(StatementLine(2, "R1", D("3000.00"), "处理中"), LineOutcome.unmatched, id="状态不明"),
        ],
    )
    def test_line(self, line, outcome):
        assert match_lines([line], self.SENT)[0].outcome is outcome

    def test_a_payment_settles_once(self):
        lines = [StatementLine(2, "R1", D("3000.00"), "成功"), StatementLine(3, "R1", D("3000.00"), "成功")]
        assert [r.outcome for r in match_lines(lines, self.SENT)] == [LineOutcome.paid, LineOutcome.unmatched]


def pay(pid: str, household: str = "h1", amount: str = "500", day: int = 1, **kw) -> an.PaymentFact:
    base = dict(
        payment_id=pid,
        project_id="prj",
        region_code=VILLAGE,
        payee_household_id=household,
        payee_member_id=None,
        account_hash=f"acct-{household}",
        amount=D(amount),
        purpose="产业奖补",
        pay_date=date(2025, 5, day),
        to_poor_only=True,
    )
    return an.PaymentFact(**(base | kw))


class TestAnomalies:
    def test_duplicate(self):
        assert [f.evidence_ids for f in an.duplicates([pay("a"), pay("b", day=9)], window_days=30)] == [("a", "b")]
        assert an.duplicates([pay("a"), pay("b", amount="400")], window_days=30) == []

    def test_deceased_and_ineligible(self):
        payments = [pay("a", payee_member_id="m1", day=5), pay("b", payee_member_id="m2", day=5)]
        assert [f.evidence_ids for f in an.deceased(payments, {"m1": date(2025, 5, 4)})] == [("a",)]
        assert an.deceased(payments, {"m1": date(2025, 5, 6)}) == []
        assert [f.evidence_ids for f in an.ineligible(payments, {"a": True, "b": False})] == [("b",)]

    def test_shared_account(self):
        payments = [pay("a", "h1", account_hash="X"), pay("b", "h2", account_hash="X"), pay("c", "h3")]
        assert [f.evidence_ids for f in an.shared_accounts(payments)] == [("a", "b")]
        assert an.shared_accounts([pay("a", "h1", account_hash="X"), pay("b", "h1", account_hash="X")]) == []

    def test_split(self):
        payments = [pay("a", amount="6000", day=1), pay("b", amount="5000", day=3, purpose="其他")]
        assert [f.evidence_ids for f in an.splits(payments, threshold=D("10000"), window_days=30)] == [("a", "b")]
        assert an.splits([pay("a", amount="6000")], threshold=D("10000"), window_days=30) == []

    def test_cadre_over_budget_idle(self):
        assert len(an.cadre_households([pay("a", "h1"), pay("b", "h2")], {"h2": "村干部"})) == 1
        spends = [
            an.ProjectSpend("p1", VILLAGE, D("100"), D("101")),
            an.ProjectSpend("p2", VILLAGE, D("100"), D("100")),
        ]
        assert [f.evidence_ids for f in an.over_budget(spends)] == [("p1",)]
        balance = an.IdleBalance("acc", VILLAGE, D("5"), None, date(2025, 1, 1))
        assert len(an.idle([balance], today=date(2025, 7, 1), days=180)) == 1
        assert an.idle([balance], today=date(2025, 6, 30), days=180) == []

    def test_finding_key_is_stable(self):
        one = an.duplicates([pay("b", day=9), pay("a")], window_days=30)[0]
        two = an.duplicates([pay("a"), pay("b", day=9)], window_days=30)[0]
        assert one.key == two.key
