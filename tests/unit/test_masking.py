"""Personal data is masked in lists, exports and logs."""

from __future__ import annotations

from shared.masking import mask_account, mask_phone, mask_resident_id, mask_text


def test_masks() -> None:
    assert mask_resident_id("520102199001011234") == "5201**********1234"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_account("6222021234567890123") == "***************0123"
    assert mask_resident_id(None) is None


def test_free_text_masking_catches_ids_and_phones_but_not_other_numbers() -> None:
    line = "member 52232319800506123X phone 13800138000 household 522323109001 amount 50000"
    assert mask_text(line) == "member 5223**********123X phone 138****8000 household 522323109001 amount 50000"
