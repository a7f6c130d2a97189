"""The response an Idempotency-Key keeps for its replay: whole resident IDs and mobiles masked wherever they are,
ids left as they were (their random hex can hold eleven digits in a row that read as a mobile)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.idempotency import masked

# A UUIDv7 whose last group, "c13812345678", holds what the mobile pattern matches.
TRICKY_ID = "0193a6b2-7c1d-7e4f-8a2b-c13812345678"


@pytest.mark.parametrize(
    ("stored", "kept"),
    [
        pytest.param({"id": TRICKY_ID}, {"id": TRICKY_ID}, id="an id stays whole"),
        pytest.param({"phone": "13812345678"}, {"phone": "138****5678"}, id="a mobile is masked"),
        pytest.param(
            {"members": [{"id": TRICKY_ID, "id_number": "110101199003077777"}]},
            {"members": [{"id": TRICKY_ID, "id_number": "1101**********7777"}]},
            id="nested: the member's id stays, its resident ID is masked",
        ),
        pytest.param(
            {"note": f"call 13812345678 about {TRICKY_ID}"},
            {"note": f"call 138****5678 about {TRICKY_ID[:-8]}****5678"},
            id="free text is masked as a log line is",
        ),
        pytest.param({"count": 13812345678, "ok": True, "none": None}, None, id="numbers and others untouched"),
    ],
)
def test_a_stored_response_is_masked_but_its_ids_are_not(stored: dict[str, Any], kept: dict[str, Any] | None) -> None:
    assert masked(stored) == (stored if kept is None else kept)
