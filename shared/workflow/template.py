"""Workflow templates as data: ordered steps with roles, region level, evidence and public notices."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.auth import Role

KEY = r"^[a-z][a-z0-9_]{0,39}$"


class Level(StrEnum):
    """The region level a step acts at; its code length is how wide the actor's scope may be at most."""

    group = "group"
    village = "village"
    township = "township"
    county = "county"
    city = "city"
    province = "province"


LEVEL_CODE_LENGTH = {
    Level.group: 12,
    Level.village: 12,
    Level.township: 9,
    Level.county: 6,
    Level.city: 4,
    Level.province: 2,
}


class EvidenceKind(StrEnum):
    attachment = "attachment"  # ids of uploaded files; ``min`` of them
    text = "text"  # a non-empty text (minutes summary, reason)
    count = "count"  # type: ignore[assignment]  # a whole number >= ``min`` (attendance); shadows str.count
    tally = "tally"  # {"for", "against", "abstain"} whole numbers (a vote)
    answers = "answers"  # an object holding every key in ``fields`` (a survey)


class EvidenceSpec(BaseModel):
    """One piece of evidence a step needs."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY)
    label: str = Field(min_length=1, max_length=120)
    kind: EvidenceKind
    min: int = Field(default=1, ge=0, le=1000, description="attachments or count at least this")
    fields: list[str] = Field(default_factory=list, max_length=50, description="answers: the keys required")
    optional: bool = False


class NoticeSpec(BaseModel):
    """The public notice (公示 / 公告) a step opens once taken."""

    model_config = ConfigDict(extra="forbid")

    level: Level
    days: int | None = Field(default=None, ge=1, le=60, description="duration; the level's default when absent")
    announcement: bool = Field(default=False, description="a final announcement (公告): no objection window")


class StepSpec(BaseModel):
    """One step: who may take it, at which level, on what evidence."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY)
    label: str = Field(min_length=1, max_length=120)
    roles: list[Role] = Field(min_length=1, max_length=7)
    level: Level
    evidence: list[EvidenceSpec] = Field(default_factory=list, max_length=20)
    notice: NoticeSpec | None = None
    evaluates: bool = Field(default=False, description="taking it evaluates the rules on fresh facts")
    can_reject: bool = Field(default=False, description="its actor may end the instance as rejected")
    can_send_back: bool = Field(default=True, description="its actor may send the instance back to an earlier step")
    tags: list[str] = Field(default_factory=list, max_length=10, description="what the using service keys on")

    @model_validator(mode="after")
    def _unique_evidence(self) -> StepSpec:
        keys = [e.key for e in self.evidence]
        if len(keys) != len(set(keys)):
            raise ValueError(f"step {self.key}: evidence keys repeat")
        return self


class TemplateBody(BaseModel):
    """What a template says; the store adds its version."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=KEY, description="what it is for, e.g. recognition")
    label: str = Field(min_length=1, max_length=200)
    jurisdiction: str = Field(default="", pattern=r"^\d{0,12}$", description="region-code prefix; empty: everywhere")
    effective_from: date
    source_ref: str | None = Field(default=None, max_length=200)
    steps: list[StepSpec] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _unique_steps(self) -> TemplateBody:
        keys = [s.key for s in self.steps]
        if len(keys) != len(set(keys)):
            raise ValueError("step keys repeat")
        return self

    def index_of(self, key: str) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.key == key), None)


class Template(TemplateBody):
    """A published template version."""

    id: str
    version: int


def load_file(path: Path) -> TemplateBody:
    """A template from a YAML or JSON data file."""
    text = path.read_text(encoding="utf-8")
    raw: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return TemplateBody.model_validate(raw)


def load_dir(folder: Path) -> list[TemplateBody]:
    return [load_file(p) for p in sorted(folder.iterdir()) if p.suffix in (".yaml", ".yml", ".json")]


def select(templates: Iterable[Template], *, code: str, region_code: str, on: date) -> Template | None:
    """The version that governs ``region_code`` on ``on``: the narrowest jurisdiction, then the latest in force."""
    fitting = [
        t for t in templates if t.code == code and region_code.startswith(t.jurisdiction) and t.effective_from <= on
    ]
    if not fitting:
        return None
    return max(fitting, key=lambda t: (len(t.jurisdiction), t.effective_from, t.version))
