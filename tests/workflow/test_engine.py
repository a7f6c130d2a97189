"""The engine's state machine: order, twice, role, region, level, evidence, notices, send-back, rejection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.refusals import Refused
from shared.workflow import engine
from shared.workflow.engine import Action, Progress, Status
from shared.workflow.template import TemplateBody
from tests.workflow.conftest import APPROVE_EVIDENCE, RAW, REVIEW_EVIDENCE, VILLAGE, actor

CADRE = actor("village_cadre")
TOWNSHIP = actor("township_reviewer", region=VILLAGE[:9])


def codes(excinfo: pytest.ExceptionInfo[Refused]) -> list[str]:
    return [r.code for r in excinfo.value.refusals]


def run_to_approve(template: TemplateBody) -> Progress:
    move = engine.take(template, Progress(), step="apply", actor=CADRE, region_code=VILLAGE, evidence={"form": ["a1"]})
    move = engine.take(template, move.after, step="review", actor=CADRE, region_code=VILLAGE, evidence=REVIEW_EVIDENCE)
    return engine.end_notice(template, move.after, objected=False).after


class TestTake:
    def test_a_full_run_records_each_move_and_ends_done(self, template):
        first = engine.take(
            template, Progress(), step="apply", actor=CADRE, region_code=VILLAGE, evidence={"form": "a1"}
        )
        assert (first.action, first.role, first.after) == (Action.take, "village_cadre", Progress(1))
        review = engine.take(
            template, first.after, step="review", actor=CADRE, region_code=VILLAGE, evidence=REVIEW_EVIDENCE
        )
        assert review.after == Progress(2, Status.held, held_step="review")
        released = engine.end_notice(template, review.after, objected=False)
        assert (released.action, released.after) == (Action.release, Progress(2))
        last = engine.take(
            template, released.after, step="approve", actor=TOWNSHIP, region_code=VILLAGE, evidence=APPROVE_EVIDENCE
        )
        assert (last.after.status, last.role) == (Status.done, "township_reviewer")

    @pytest.mark.parametrize(
        ("who", "code", "status"),
        [
            pytest.param(actor("helper"), "wrong_role", 403, id="wrong role"),
            pytest.param(actor("village_cadre", region="522323101001"), "outside_region", 403, id="other village"),
        ],
    )
    def test_authority_is_a_403_naming_what_is_wrong(self, template, who, code, status):
        with pytest.raises(Refused) as excinfo:
            engine.take(template, Progress(), step="apply", actor=who, region_code=VILLAGE, evidence={"form": "a"})
        assert codes(excinfo) == [code] and excinfo.value.status == status

    def test_township_step_refuses_a_village_scoped_reviewer(self, template):
        progress = run_to_approve(template)
        village_scoped = actor("township_reviewer", region=VILLAGE)
        with pytest.raises(Refused) as excinfo:
            engine.take(
                template, progress, step="approve", actor=village_scoped, region_code=VILLAGE, evidence=APPROVE_EVIDENCE
            )
        assert codes(excinfo) == ["wrong_level"]

    def test_out_of_order_and_twice_are_409s_naming_the_next_step(self, template):
        with pytest.raises(Refused) as excinfo:
            engine.take(template, Progress(), step="review", actor=CADRE, region_code=VILLAGE, evidence=REVIEW_EVIDENCE)
        assert codes(excinfo) == ["out_of_order"] and excinfo.value.status == 409
        assert "next is apply" in excinfo.value.detail
        with pytest.raises(Refused) as excinfo:
            engine.take(template, Progress(1), step="apply", actor=CADRE, region_code=VILLAGE, evidence={"form": "a"})
        assert codes(excinfo) == ["already_taken"]

    def test_a_held_instance_refuses_the_next_step_until_the_notice_ends(self, template):
        held = Progress(2, Status.held, held_step="review")
        with pytest.raises(Refused) as excinfo:
            engine.take(template, held, step="approve", actor=TOWNSHIP, region_code=VILLAGE, evidence=APPROVE_EVIDENCE)
        assert codes(excinfo) == ["held"]

    def test_unknown_step_is_a_422_on_step(self, template):
        with pytest.raises(Refused) as excinfo:
            engine.take(template, Progress(), step="nope", actor=CADRE, region_code=VILLAGE, evidence={})
        assert codes(excinfo) == ["unknown_step"] and excinfo.value.status == 422

    @pytest.mark.parametrize(
        ("evidence", "expected"),
        [
            pytest.param({}, {"evidence.minutes", "evidence.attendance", "evidence.vote"}, id="nothing given"),
            pytest.param(REVIEW_EVIDENCE | {"attendance": 3}, {"evidence.attendance"}, id="attendance below min"),
            pytest.param(REVIEW_EVIDENCE | {"minutes": "  "}, {"evidence.minutes"}, id="blank minutes"),
            pytest.param(REVIEW_EVIDENCE | {"vote": {"for": 1}}, {"evidence.vote"}, id="tally incomplete"),
            pytest.param(
                REVIEW_EVIDENCE | {"vote": {"for": 0, "against": 0, "abstain": 0}}, {"evidence.vote"}, id="no votes"
            ),
            pytest.param(REVIEW_EVIDENCE | {"attendance": True}, {"evidence.attendance"}, id="bool is no count"),
            pytest.param(REVIEW_EVIDENCE | {"photo": "x"}, {"evidence.photo"}, id="unexpected evidence"),
        ],
    )
    def test_missing_or_malformed_evidence_is_a_422_naming_each_field(self, template, evidence, expected):
        with pytest.raises(Refused) as excinfo:
            engine.take(template, Progress(1), step="review", actor=CADRE, region_code=VILLAGE, evidence=evidence)
        assert {r.field for r in excinfo.value.refusals} == expected and excinfo.value.status == 422

    def test_answers_name_the_missing_keys(self, template):
        progress = run_to_approve(template)
        with pytest.raises(Refused) as excinfo:
            engine.take(
                template,
                progress,
                step="approve",
                actor=TOWNSHIP,
                region_code=VILLAGE,
                evidence={"survey": {"income": 1}},
            )
        assert "housing" in excinfo.value.detail

    def test_caller_refusals_join_the_evidence_ones(self, template):
        from shared.refusals import Refusal

        with pytest.raises(Refused) as excinfo:
            engine.take(
                template,
                Progress(),
                step="apply",
                actor=CADRE,
                region_code=VILLAGE,
                evidence={},
                refusals=[Refusal("quota", "over quota", "acknowledged")],
            )
        assert codes(excinfo) == ["evidence_missing", "quota"]

    def test_attachment_ids_lists_every_id(self, template):
        assert engine.attachment_ids(template.steps[0], {"form": ["a", "b"]}) == ["a", "b"]


class TestRejectAndSendBack:
    def test_reject_needs_a_step_that_can_and_a_reason(self, template):
        with pytest.raises(Refused) as excinfo:
            engine.take(
                template,
                Progress(),
                step="apply",
                actor=CADRE,
                region_code=VILLAGE,
                evidence={"form": "a"},
                reject=True,
            )
        assert codes(excinfo) == ["cannot_reject", "reason_missing"]
        progress = run_to_approve(template)
        move = engine.take(
            template,
            progress,
            step="approve",
            actor=TOWNSHIP,
            region_code=VILLAGE,
            evidence=APPROVE_EVIDENCE,
            reject=True,
            comment="income above the line",
        )
        assert (move.action, move.after.status) == (Action.reject, Status.rejected)
        with pytest.raises(Refused) as excinfo:
            engine.take(template, move.after, step="approve", actor=TOWNSHIP, region_code=VILLAGE, evidence={})
        assert codes(excinfo) == ["closed"]

    def test_send_back_by_the_due_steps_actor_with_a_reason(self, template):
        progress = run_to_approve(template)
        move = engine.send_back(
            template, progress, to_step="apply", actor=TOWNSHIP, region_code=VILLAGE, reason="form unsigned"
        )
        assert (move.action, move.step, move.after, move.comment) == (
            Action.send_back,
            "approve",
            Progress(0),
            "form unsigned",
        )
        with pytest.raises(Refused) as excinfo:
            engine.send_back(template, progress, to_step="apply", actor=CADRE, region_code=VILLAGE, reason="x")
        assert codes(excinfo) == ["wrong_role", "wrong_level"]
        with pytest.raises(Refused) as excinfo:
            engine.send_back(template, progress, to_step="approve", actor=TOWNSHIP, region_code=VILLAGE, reason=" ")
        assert codes(excinfo) == ["not_earlier", "reason_missing"]

    def test_an_objection_returns_to_the_noticed_step(self, template):
        held = Progress(2, Status.held, held_step="review")
        move = engine.end_notice(template, held, objected=True)
        assert (move.action, move.after) == (Action.objected, Progress(1))
        with pytest.raises(Refused):
            engine.end_notice(template, move.after, objected=False)


class TestTemplateData:
    def test_repeated_step_keys_are_refused(self):
        raw = RAW | {"steps": [RAW["steps"][0], RAW["steps"][0]]}
        with pytest.raises(ValueError, match="repeat"):
            TemplateBody.model_validate(raw)

    def test_unknown_roles_are_refused(self):
        raw = RAW | {"steps": [RAW["steps"][0] | {"roles": ["mayor"]}]}
        with pytest.raises(ValueError):
            TemplateBody.model_validate(raw)


@given(st.lists(st.sampled_from(["apply", "review", "approve", "end", "objected", "back"]), max_size=25))
def test_any_sequence_of_attempts_keeps_progress_consistent(attempts):
    """Whatever is tried, the index stays in range, done only at the end, and a refusal changes nothing."""
    template = TemplateBody.model_validate(RAW)
    evidence = {"apply": {"form": "a"}, "review": REVIEW_EVIDENCE, "approve": APPROVE_EVIDENCE}
    who = {"apply": CADRE, "review": CADRE, "approve": TOWNSHIP}
    progress = Progress()
    taken: list[str] = []
    for attempt in attempts:
        try:
            if attempt in evidence:
                move = engine.take(
                    template,
                    progress,
                    step=attempt,
                    actor=who[attempt],
                    region_code=VILLAGE,
                    evidence=evidence[attempt],
                )
                taken.append(attempt)
            elif attempt == "back":
                current = template.steps[min(progress.step_index, 2)].key
                move = engine.send_back(
                    template, progress, to_step="apply", actor=who[current], region_code=VILLAGE, reason="again"
                )
            else:
                move = engine.end_notice(template, progress, objected=attempt == "objected")
        except Refused:
            continue
        assert move.before == progress
        progress = move.after
        assert 0 <= progress.step_index <= len(template.steps)
        assert (progress.status is Status.done) == (progress.step_index == len(template.steps))
        assert (progress.status is Status.held) == (progress.held_step is not None)
    if progress.status is Status.done:
        assert taken[-1] == "approve"
