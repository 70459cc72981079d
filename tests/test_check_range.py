"""errors.check_range: the one range check behind every numeric option."""

from __future__ import annotations

import math

import pytest

from bash_ai.errors import UsageError, check_range


@pytest.mark.parametrize("value", [0, 3, 8, 0.5, 8.0])
def test_values_in_range_pass(value: float) -> None:
    check_range("k", value, 0, 8)


@pytest.mark.parametrize("value", [-1, 9, 8.01, math.nan, math.inf, True, "3", None])
def test_values_out_of_range_or_not_numbers_are_one_clear_line(value: object) -> None:
    with pytest.raises(UsageError) as caught:
        check_range("--retrieval-k", value, 0, 8)  # type: ignore[arg-type]
    assert str(caught.value) == f"--retrieval-k must be between 0 and 8 (got {value!r})"


def test_integer_ranges_refuse_fractions() -> None:
    check_range("beam width", 5, 1, 16, integer=True)
    with pytest.raises(UsageError, match="beam width must be between 1 and 16"):
        check_range("beam width", 1.5, 1, 16, integer=True)
