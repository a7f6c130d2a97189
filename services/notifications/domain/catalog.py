"""The built-in templates, one per kind of message; an operator's template with the same code replaces one."""

from __future__ import annotations

from dataclasses import dataclass

SIGNATURE = "【扶贫办】"


@dataclass(frozen=True)
class Builtin:
    body: str
    parameters: tuple[str, ...]


BUILTIN: dict[str, Builtin] = {
    "household_recognised": Builtin(
        SIGNATURE + "{helper}您好，您帮扶的{household}已识别为建档立卡贫困户，请尽快入户制定帮扶措施。",
        ("helper", "household"),
    ),
    "household_exited": Builtin(
        SIGNATURE + "{helper}您好，您帮扶的{household}已脱贫，脱贫不脱政策，请继续跟踪帮扶。", ("helper", "household")
    ),
    "household_returned": Builtin(
        SIGNATURE + "{helper}您好，您帮扶的{household}已返贫，请尽快入户核实并制定帮扶措施。", ("helper", "household")
    ),
    "member_birth": Builtin(
        SIGNATURE + "{helper}您好，您帮扶的{household}家中新添人口，请入户看望并更新帮扶手册。", ("helper", "household")
    ),
    "member_death": Builtin(
        SIGNATURE + "{helper}您好，您帮扶的{household}家中有亲人去世，请及时入户慰问。", ("helper", "household")
    ),
    "repayment_due": Builtin(
        SIGNATURE + "{name}您好，您的扶贫小额贷款第{installment}期将于{due_date}到期，请按时还款付息。",
        ("name", "installment", "due_date"),
    ),
    "repayment_due_helper": Builtin(
        SIGNATURE + "{helper}您好，您帮扶的{household}扶贫小额贷款将于{due_date}到期，请提醒按时还款。",
        ("helper", "household", "due_date"),
    ),
    "loan_overdue": Builtin(
        SIGNATURE + "{name}您好，您的扶贫小额贷款已逾期{days}天，请尽快联系贷款银行，以免影响信用。", ("name", "days")
    ),
    "loan_overdue_helper": Builtin(
        SIGNATURE + "{helper}您好，您帮扶的{household}扶贫小额贷款已逾期{days}天，请督促还款。",
        ("helper", "household", "days"),
    ),
    "publicity_started": Builtin(
        SIGNATURE + "{name}您好，{level}公示已于{starts}开始，至{ends}结束，请到{place}查看。有异议请回复YY加内容。",
        ("name", "level", "starts", "ends", "place"),
    ),
    "comparison_flagged": Builtin(
        SIGNATURE + "{officer}您好，大数据比对在{region}发现{count}条疑点，请登录系统核实。",
        ("officer", "region", "count"),
    ),
    "funds_anomaly": Builtin(
        SIGNATURE + "{officer}您好，资金监管在{region}发现一条异常（{kind}），请登录系统核查。",
        ("officer", "region", "kind"),
    ),
    "duty_reminder": Builtin(
        SIGNATURE + "{helper}您好，{period}“{duty}”还有{households}户未完成，请于{deadline}前完成并登记。回复TD退订",
        ("helper", "period", "duty", "households", "deadline"),
    ),
    "duties_missed": Builtin(
        SIGNATURE + "{officer}您好，{period}“{duty}”有{helpers}名帮扶责任人未完成，请登录系统查看。",
        ("officer", "period", "duty", "helpers"),
    ),
    "household_unpaired": Builtin(
        SIGNATURE + "{officer}您好，{region}有{count}户尚无帮扶责任人，请尽快安排结对。", ("officer", "region", "count")
    ),
}

# Kinds that may go during quiet hours by default (settings can change the set).
URGENT_KINDS = frozenset({"loan_overdue"})


def relayed(text: str, *, household: str) -> str:
    """The text for a household without a phone, sent to its helper or the village information officer to pass on."""
    if text.startswith("【"):
        end = text.index("】") + 1
        return f"{text[:end]}请转告{household}：{text[end:]}"
    return f"请转告{household}：{text}"
