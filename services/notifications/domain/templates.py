"""Message templates (短信模板): Chinese text with named parameters and a signature 【…】, checked when made."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.notifications.domain.segments import MAX_CHARACTERS, SegmentCount, count_segments
from shared.refusals import Refusal, refuse_if

PARAMETER = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SIGNATURE = re.compile(r"^【([^【】]{2,12})】|【([^【】]{2,12})】$")
MAX_VALUE_LENGTH = 35  # gateways cap one variable at about 35 characters
OPT_OUT_HINT = re.compile(r"(回复|回)(TD|T|R|N)退订|拒收请回复[RTDN]+")
# Facts that never go into an SMS (DOMAIN 5.5): a parameter named for one of them is refused at creation.
SENSITIVE = ("income", "illness", "disease", "diagnosis", "id_number", "resident_id", "debt", "bank", "account")


@dataclass(frozen=True)
class Rendered:
    text: str
    length: SegmentCount


def placeholders(body: str) -> tuple[list[str], list[Refusal]]:
    """The names between braces, in order; a brace that opens no valid name is refused."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as exc:
        return [], [Refusal("bad_placeholder", f"unbalanced braces: {exc}", "body")]
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not PARAMETER.match(name) or spec or conversion:
            return names, [Refusal("bad_placeholder", f"{{{name}}} is not a parameter name (a-z, 0-9, _)", "body")]
        names.append(name)
    return names, []


def signature_of(body: str) -> str | None:
    match = SIGNATURE.search(body)
    return (match.group(1) or match.group(2)) if match else None


def template_refusals(*, body: str, parameters: Sequence[str], needs_opt_out: bool = False) -> list[Refusal]:
    """A template must carry a signature, use exactly its declared parameters and name no sensitive fact."""
    refusals: list[Refusal] = []
    if signature_of(body) is None:
        refusals.append(
            Refusal("no_signature", "the text must start or end with a signature 【…】 (2–12 characters)", "body")
        )
    used, bad = placeholders(body)
    refusals += bad
    declared = list(parameters)
    for name in declared:
        if not PARAMETER.match(name):
            refusals.append(Refusal("bad_parameter", f"{name!r} is not a parameter name (a-z, 0-9, _)", "parameters"))
        elif any(word in name for word in SENSITIVE):
            refusals.append(
                Refusal("sensitive_parameter", f"{name} would put personal facts into an SMS", "parameters")
            )
    if len(set(declared)) != len(declared):
        refusals.append(Refusal("duplicate_parameter", "a parameter is declared twice", "parameters"))
    if unknown := sorted(set(used) - set(declared)):
        refusals.append(
            Refusal("unknown_parameter", f"the text uses undeclared parameters: {', '.join(unknown)}", "body")
        )
    if unused := sorted(set(declared) - set(used)):
        refusals.append(Refusal("unused_parameter", f"declared but not in the text: {', '.join(unused)}", "parameters"))
    if needs_opt_out and not OPT_OUT_HINT.search(body):
        refusals.append(Refusal("no_opt_out", "a broadcast must tell how to stop messages (回复TD退订)", "body"))
    if len(body) > MAX_CHARACTERS:
        refusals.append(Refusal("too_long", f"at most {MAX_CHARACTERS} characters", "body"))
    return refusals


def render_refusals(*, parameters: Sequence[str], values: Mapping[str, str], field: str = "params") -> list[Refusal]:
    """Values for exactly the template's parameters, each 1–35 characters on one line."""
    refusals = [
        Refusal("missing_parameter", f"no value for {name}", f"{field}.{name}")
        for name in parameters
        if name not in values
    ]
    refusals += [
        Refusal("unknown_parameter", f"the template has no parameter {name}", f"{field}.{name}")
        for name in values
        if name not in parameters
    ]
    for name, value in values.items():
        if (name in parameters and not (0 < len(str(value)) <= MAX_VALUE_LENGTH)) or "\n" in str(value):
            refusals.append(
                Refusal("bad_value", f"{name} must be 1–{MAX_VALUE_LENGTH} characters on one line", f"{field}.{name}")
            )
    return refusals


def render(*, body: str, parameters: Sequence[str], values: Mapping[str, str]) -> Rendered:
    """The text a recipient reads, and what it costs in segments; refused when the values do not fit."""
    refuse_if(render_refusals(parameters=parameters, values=values))
    text = body.format_map({k: str(v) for k, v in values.items()})
    refuse_if(
        [Refusal("too_long", f"the rendered text is over {MAX_CHARACTERS} characters", "params")]
        if len(text) > MAX_CHARACTERS
        else []
    )
    return Rendered(text=text, length=count_segments(text))
