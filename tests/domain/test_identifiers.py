"""The unified social credit code (GB 32100-2015): valid codes pass, and every kind of wrong one is refused
with a message that says what is wrong.

Valid codes come from two places only: codes published with their companies (each with its source below)
and codes made with ``uscc_with_check``, whose check characters are computed, never typed in.
"""

from __future__ import annotations

import pytest

from domain.identifiers import (
    USCC_ALPHABET,
    USCC_SCHEME,
    is_valid_uscc,
    organization_check_character,
    uscc_check_character,
    uscc_error,
    uscc_with_check,
)

#: Codes published with their holders, checked by hand against both check characters (see the test).
PUBLISHED = {
    # the well-known example of validators' documentation (a Fuzhou registration, region 350100)
    "91350100M000100Y43": "the well-known example",
    # Huawei Technologies Co., Ltd. (华为技术有限公司), Shenzhen: its code as Wikipedia's infobox gives it
    "914403001922038216": "Huawei Technologies",
    # the code in python-stdnum's doctests (stdnum.cn.uscc), a Beijing registration
    "91110000600037341L": "python-stdnum's example",
}

#: Made for these tests: body (registration authority, kind, region, organization code body) -> code.
MADE = [uscc_with_check(body) for body in ("91310115MA1GK8Q3", "91320505MA1NT4W2", "1210000040000000")]


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_published_codes_are_valid(code: str) -> None:
    assert is_valid_uscc(code), uscc_error(code)
    assert uscc_error(code) is None


def test_the_standards_example_by_hand() -> None:
    # 91350100M000100Y43: the organization code M000100Y4 (GB 11714): M=22, Y=34, weights 3 7 9 10 5 8 4 2
    # 22*3 + 0 + 0 + 0 + 1*5 + 0 + 0 + 34*2 = 139; 139 mod 11 = 7; 11 - 7 = 4: the 17th character.
    assert organization_check_character("M000100Y") == "4"
    # the 18th: values 9 1 3 5 0 1 0 0 21 0 0 0 1 0 0 30 4 (M=21 and Y=30 in the code's own alphabet),
    # weights 3^(i-1) mod 31: the sum is 1640; 1640 mod 31 = 28; 31 - 28 = 3.
    values = [USCC_ALPHABET.index(ch) for ch in "91350100M000100Y4"]
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert sum(v * w for v, w in zip(values, weights, strict=True)) == 1640
    assert uscc_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize("code", MADE)
def test_made_codes_are_valid(code: str) -> None:
    assert len(code) == 18 and is_valid_uscc(code)


def test_uscc_with_check_computes_both_check_characters() -> None:
    # 16 characters: the organization code's check character, then the code's
    assert uscc_with_check("91350100M000100Y") == "91350100M000100Y43"
    # 17 characters: the 17th as given, only the 18th computed (so a wrong 17th stays wrong)
    assert uscc_with_check("91350100M000100Y4") == "91350100M000100Y43"
    wrong_org = uscc_with_check("91350100M000100Y5")
    assert uscc_check_character(wrong_org[:17]) == wrong_org[17]
    assert not is_valid_uscc(wrong_org)
    for bad in ("9135010", "91350100M000100Y43", "91350100M000100YI", "91350100m000100Y"):
        with pytest.raises(ValueError):
            uscc_with_check(bad)


def test_the_weights_are_powers_of_three_mod_31() -> None:
    # changing one character by one value changes the check character by minus its weight
    code = "91350100M000100Y43"
    for i in range(17):
        bumped_char = USCC_ALPHABET[(USCC_ALPHABET.index(code[i]) + 1) % 31]
        bumped = code[:i] + bumped_char + code[i + 1 : 17]
        expected = USCC_ALPHABET[(USCC_ALPHABET.index("3") - pow(3, i, 31)) % 31]
        assert uscc_check_character(bumped) == expected, i


@pytest.mark.parametrize(
    ("check", "value"),
    # GB 11714: 11 - (sum mod 11); 10 is written X and 11 is written 0
    [("X", 10), ("0", 11), ("1", 1), ("9", 9)],
)
def test_organization_check_character_x_and_0(check: str, value: int) -> None:
    # find a body whose check comes out as ``value`` by the formula (M = 22, A = 10 in GB 11714), compare
    for n in range(1000):
        body = f"MA{n:06d}"
        total = 22 * 3 + 10 * 7 + sum(int(d) * w for d, w in zip(body[2:], (9, 10, 5, 8, 4, 2), strict=True))
        if 11 - total % 11 == value:
            assert organization_check_character(body) == check
            code = uscc_with_check("91310115" + body)
            assert code[16] == check and is_valid_uscc(code)
            return
    pytest.fail(f"no body gives {value}")


def _message(code: str) -> str:
    problem = uscc_error(code)
    assert problem is not None, code
    assert not is_valid_uscc(code)
    assert problem[0].isupper() and problem.endswith(".")
    return problem


VALID = "91350100M000100Y43"


@pytest.mark.parametrize("code", ["", VALID[:17], VALID + "0", VALID * 2, "9" * 17])
def test_wrong_length(code: str) -> None:
    assert f"not {len(code)}" in _message(code) and "18 characters" in _message(code)


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_outside_the_alphabet(letter: str) -> None:
    code = VALID[:9] + letter + VALID[10:]
    assert f"Character 10 ('{letter}')" in _message(code)


@pytest.mark.parametrize("char", ["-", " ", "\u00e9", "\uff19", "\u200b"])
def test_other_characters(char: str) -> None:
    code = VALID[:5] + char + VALID[6:]
    assert "Character 6" in _message(code)


def test_lower_case_is_refused_with_a_hint() -> None:
    assert "capitals" in _message(VALID.lower())
    assert "Character 9 ('m')" in _message(VALID.lower())
    assert "capitals" not in _message(VALID[:9] + "I" + VALID[10:])


def test_the_region_code_is_digits() -> None:
    code = uscc_with_check("9135A100M000100Y")  # both check characters right
    assert "region code" in _message(code) and "35A100" in _message(code)


def test_the_organization_codes_check_character() -> None:
    # the 17th character wrong; the 18th computed over it, so only the organization code's check fails
    code = uscc_with_check("91350100M000100Y5")
    problem = _message(code)
    assert "organization code" in problem and "M000100Y5" in problem
    assert "is 4, not 5" in problem


@pytest.mark.parametrize("position", range(18))
def test_one_mistyped_character_is_caught(position: int) -> None:
    # any single substitution within the alphabet is caught (by one check or the other, or the region)
    for replacement in USCC_ALPHABET:
        if replacement == VALID[position]:
            continue
        code = VALID[:position] + replacement + VALID[position + 1 :]
        assert not is_valid_uscc(code), code


def test_the_check_character() -> None:
    problem = _message(VALID[:17] + "4")
    assert "check character (character 18) is 3, not 4" in problem
    # two neighbours swapped: caught too
    assert not is_valid_uscc("91351000M000100Y43")


def test_early_pilot_codes_that_fail_the_check_are_refused() -> None:
    # Fujian's pilot issued codes before the standard whose 18th character does not follow it (noted by
    # validators that accept them, e.g. aarioai/id-rule): the platform's check refuses them like a typo
    assert "is 1, not M" in _message("91350100M0001TGQXM")


def test_the_scheme_name() -> None:
    assert USCC_SCHEME == "USCC"
    assert len(USCC_ALPHABET) == 31 and not set("IOSVZ") & set(USCC_ALPHABET)
