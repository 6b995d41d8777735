import re

import pytest

from bot.domain.tracking import ALPHABET, check_char, new_tracking_id, normalize_tracking_id

FORMAT = re.compile(rf"^LPR-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def _code(tracking_id: str) -> str:
    return tracking_id.replace("LPR-", "").replace("-", "")


def test_alphabet_has_no_look_alikes():
    assert not set(ALPHABET) & set("0O1IL5S2Z")
    assert len(set(ALPHABET)) == len(ALPHABET) == 27


def test_format_and_valid_check():
    for _ in range(200):
        tid = new_tracking_id()
        assert FORMAT.match(tid), tid
        code = _code(tid)
        assert code[-1] == check_char(code[:-1])
        assert normalize_tracking_id(tid) == tid


def test_ten_thousand_ids_are_distinct():
    ids = [new_tracking_id() for _ in range(10_000)]
    # 27**7 ids: the chance of even one birthday collision among 10k is ~0.5%, of two ~1e-5,
    # so more than one duplicate means the generator lost entropy. (The database's unique
    # constraint and a retry cover the rare real collision.)
    assert len(set(ids)) >= len(ids) - 1
    # Every position draws from the whole alphabet (a stuck or narrow generator fails).
    for pos in range(7):
        assert {_code(t)[pos] for t in ids} == set(ALPHABET)


@pytest.mark.parametrize("body", ["7K3MQ9X", "3333333", "YYYYYYY", "A4B6C8D"])
def test_every_single_character_typo_is_caught(body):
    code = body + check_char(body)
    for pos in range(len(code)):
        for ch in ALPHABET:
            if ch == code[pos]:
                continue
            typo = code[:pos] + ch + code[pos + 1 :]
            assert normalize_tracking_id(typo) is None, typo


def test_every_adjacent_swap_is_caught():
    for _ in range(300):
        code = _code(new_tracking_id())
        for pos in range(len(code) - 1):
            if code[pos] == code[pos + 1]:
                continue
            swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
            assert normalize_tracking_id(swapped) is None, (code, swapped)


def test_normalize_accepts_how_people_type_it():
    code = "7K3MQ9X" + check_char("7K3MQ9X")
    canonical = f"LPR-{code[:4]}-{code[4:]}"
    for typed in (
        canonical,
        canonical.lower(),
        code,
        code.lower(),
        f"lpr {code[:4]} {code[4:]}",
        f"  LPR{code}  ",
        f"{code[:4]}-{code[4:]}",
        f"lpr-{code[:4]} - {code[4:]}",
    ):
        assert normalize_tracking_id(typed) == canonical, typed


@pytest.mark.parametrize(
    "text",
    ["", "LPR", "LPR-7K3M", "LPR-7K3M-Q9XDA", "hello world", "LPR-7K0M-Q9XD", "XYZ-7K3M-Q9XD"],
)
def test_normalize_rejects_malformed(text):
    assert normalize_tracking_id(text) is None
