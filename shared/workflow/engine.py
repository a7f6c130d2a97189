"""The state machine over a template: whether a step may be taken, and what the progress becomes. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from shared.auth import Role
from shared.refusals import Refusal, Refused
from shared.workflow.template import LEVEL_CODE_LENGTH, EvidenceKind, EvidenceSpec, StepSpec, TemplateBody


class Status(StrEnum):
    open = "open"  # waiting for the step at ``step_index``
    held = "held"  # a step's public notice is running
    done = "done"
    rejected = "rejected"


class Action(StrEnum):
    take = "take"
    reject = "reject"
    send_back = "send_back"
    release = "release"  # the notice ended without objection
    objected = "objected"  # the notice ended with an objection: back to re-review


@dataclass(frozen=True)
class Progress:
    """Where an instance stands: the index of the next step, and whether it is held by a notice."""

    step_index: int = 0
    status: Status = Status.open
    held_step: str | None = None


@dataclass(frozen=True)
class Actor:
    subject: str
    roles: frozenset[Role]
    region: str


@dataclass(frozen=True)
class Move:
    """One transition, as it is recorded: who, with which role, from where to where, on what evidence."""

    action: Action
    step: str
    before: Progress
    after: Progress
    role: Role | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    comment: str | None = None


FORBIDDEN, CONFLICT = 403, 409


def step_of(template: TemplateBody, key: str) -> StepSpec:
    index = template.index_of(key)
    if index is None:
        known = ", ".join(s.key for s in template.steps)
        raise Refused(Refusal("unknown_step", f"step {key!r} is not in this template ({known})", "step"))
    return template.steps[index]


def authority(step: StepSpec, actor: Actor, region_code: str) -> list[Refusal]:
    """Role, region and level: the refusals that make a 403."""
    found = []
    if not actor.roles.intersection(step.roles):
        wanted = ", ".join(r.value for r in step.roles)
        found.append(Refusal("wrong_role", f"step {step.key} ({step.label}) is taken by: {wanted}", "role"))
    if not region_code.startswith(actor.region):
        found.append(Refusal("outside_region", f"region {region_code} is outside your scope {actor.region}", "region"))
    elif len(actor.region) > LEVEL_CODE_LENGTH[step.level]:
        message = f"step {step.key} acts at {step.level.value} level; your scope is narrower"
        found.append(Refusal("wrong_level", message, "region"))
    return found


def order(template: TemplateBody, progress: Progress, key: str) -> list[Refusal]:
    """Closed, held, twice or out of order: the refusals that make a 409."""
    if progress.status in (Status.done, Status.rejected):
        return [Refusal("closed", f"the instance is {progress.status.value}", "step")]
    if progress.status is Status.held:
        return [Refusal("held", f"the public notice of {progress.held_step} has not ended", "step")]
    index = template.index_of(key)
    assert index is not None
    expected = template.steps[progress.step_index]
    if index < progress.step_index:
        return [Refusal("already_taken", f"step {key} was already taken; next is {expected.key}", "step")]
    if index > progress.step_index:
        return [Refusal("out_of_order", f"step {key} comes later; next is {expected.key} ({expected.label})", "step")]
    return []


def _evidence_problem(spec: EvidenceSpec, value: Any) -> str | None:
    kind = spec.kind
    if kind is EvidenceKind.attachment:
        ids = [value] if isinstance(value, str) else value
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids) or len(ids) < spec.min:
            return f"{spec.label}: at least {spec.min} attachment id(s)"
    elif kind is EvidenceKind.text:
        if not isinstance(value, str) or not value.strip():
            return f"{spec.label}: a text"
    elif kind is EvidenceKind.count:
        if isinstance(value, bool) or not isinstance(value, int) or value < spec.min:
            return f"{spec.label}: a whole number of at least {spec.min}"
    elif kind is EvidenceKind.tally:
        parts = ("for", "against", "abstain")
        if not isinstance(value, Mapping) or not all(
            isinstance(value.get(p), int) and not isinstance(value.get(p), bool) and value[p] >= 0 for p in parts
        ):
            return f"{spec.label}: a vote tally with for, against and abstain"
        if sum(value[p] for p in parts) < max(spec.min, 1):
            return f"{spec.label}: at least {max(spec.min, 1)} vote(s)"
    elif kind is EvidenceKind.answers:
        if not isinstance(value, Mapping):
            return f"{spec.label}: an object of answers"
        missing = [f for f in spec.fields if value.get(f) is None]
        if missing:
            return f"{spec.label}: answers missing for {', '.join(missing)}"
    return None


def evidence_refusals(step: StepSpec, evidence: Mapping[str, Any]) -> list[Refusal]:
    """Each evidence item the step needs and did not get, or got in the wrong shape, names its field."""
    found = []
    wanted = {e.key for e in step.evidence}
    for spec in step.evidence:
        value = evidence.get(spec.key)
        if value is None:
            if not spec.optional:
                found.append(Refusal("evidence_missing", f"{spec.label} is required", f"evidence.{spec.key}"))
            continue
        problem = _evidence_problem(spec, value)
        if problem:
            found.append(Refusal("evidence_invalid", problem, f"evidence.{spec.key}"))
    for key in sorted(set(evidence) - wanted):
        found.append(Refusal("evidence_unexpected", f"step {step.key} takes no evidence {key!r}", f"evidence.{key}"))
    return found


def attachment_ids(step: StepSpec, evidence: Mapping[str, Any]) -> list[str]:
    """Every attachment id the evidence names, so the caller can check they exist and belong to the instance."""
    ids: list[str] = []
    for spec in step.evidence:
        value = evidence.get(spec.key)
        if spec.kind is EvidenceKind.attachment and value is not None:
            ids.extend([value] if isinstance(value, str) else value)
    return ids


def _raise_first(*groups: tuple[Iterable[Refusal], int | None]) -> None:
    for refusals, status in groups:
        found = tuple(refusals)
        if found:
            raise Refused(*found, status=status)


def _role_used(step: StepSpec, actor: Actor) -> Role:
    return next(r for r in step.roles if r in actor.roles)


def take(
    template: TemplateBody,
    progress: Progress,
    *,
    step: str,
    actor: Actor,
    region_code: str,
    evidence: Mapping[str, Any],
    reject: bool = False,
    comment: str | None = None,
    refusals: Iterable[Refusal] = (),
) -> Move:
    """Take the next step (or end the instance as rejected there); ``refusals`` are the caller's own rules."""
    spec = step_of(template, step)
    extra = list(refusals)
    if reject and not spec.can_reject:
        extra.append(Refusal("cannot_reject", f"step {spec.key} cannot reject", "reject"))
    if reject and not (comment or "").strip():
        extra.append(Refusal("reason_missing", "a rejection needs a comment giving the reason", "comment"))
    _raise_first(
        (authority(spec, actor, region_code), FORBIDDEN),
        (order(template, progress, step), CONFLICT),
        ([*evidence_refusals(spec, evidence), *extra], None),
    )
    after = _after_take(template, progress, spec, reject=reject)
    action = Action.reject if reject else Action.take
    return Move(action, spec.key, progress, after, _role_used(spec, actor), dict(evidence), comment)


def _after_take(template: TemplateBody, progress: Progress, spec: StepSpec, *, reject: bool) -> Progress:
    nxt = progress.step_index + 1
    if reject:
        return Progress(progress.step_index, Status.rejected)
    if spec.notice is not None and not spec.notice.announcement:
        return Progress(nxt, Status.held, held_step=spec.key)
    return Progress(nxt, Status.done if nxt >= len(template.steps) else Status.open)


def send_back(
    template: TemplateBody, progress: Progress, *, to_step: str, actor: Actor, region_code: str, reason: str
) -> Move:
    """The actor of the step now due sends the instance back to an earlier step for re-review, with a reason."""
    if progress.status is not Status.open:
        raise Refused(Refusal("not_open", f"the instance is {progress.status.value}", "step"), status=CONFLICT)
    current = template.steps[progress.step_index]
    target = step_of(template, to_step)
    index = template.index_of(to_step)
    assert index is not None
    found = []
    if not current.can_send_back:
        found.append(Refusal("cannot_send_back", f"step {current.key} cannot send back", "to_step"))
    if index >= progress.step_index:
        found.append(Refusal("not_earlier", f"{target.key} is not before {current.key}", "to_step"))
    if not reason.strip():
        found.append(Refusal("reason_missing", "a send-back needs its reason", "reason"))
    _raise_first((authority(current, actor, region_code), FORBIDDEN), (found, None))
    after = Progress(index, Status.open)
    return Move(Action.send_back, current.key, progress, after, _role_used(current, actor), {}, reason)


def end_notice(template: TemplateBody, progress: Progress, *, objected: bool) -> Move:
    """The notice of the held step ended: on without objection, back to that step (re-review) with one."""
    if progress.status is not Status.held or progress.held_step is None:
        raise Refused(Refusal("not_held", "no public notice is running for this instance", "step"), status=CONFLICT)
    held = progress.held_step
    if objected:
        index = template.index_of(held)
        assert index is not None
        return Move(Action.objected, held, progress, Progress(index, Status.open))
    done = progress.step_index >= len(template.steps)
    after = replace(progress, status=Status.done if done else Status.open, held_step=None)
    return Move(Action.release, held, progress, after)
