"""Check digits of the identifiers the kernel stores (FINESS, RPPS, CIP13)."""

from __future__ import annotations


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of digits whose last one is the check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def ean13_check_digit(first12: str) -> int:
    """EAN-13 check digit (CIP13 codes are EAN-13 codes in the 34009 range)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10
