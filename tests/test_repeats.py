"""No block is written twice in the shipped code (``tools/repeats.py``, pylint's symilar), and the check fails on a
generated plugin that repeats one."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import repeats  # noqa: E402

BLOCK = '''
def total(lines):
    """Docstrings do not count."""
    amount = 0
    for line in lines:
        if line.refunded:
            continue
        amount += line.quantity * line.unit_price
    return round(amount, 2)
'''


def _plugin(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "plugins" / "rappels" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_shipped_code_repeats_no_block() -> None:
    report = repeats.check()
    assert report.duplicated_lines == 0, report.text


def test_a_block_written_twice_in_a_plugin_fails_the_check(tmp_path: Path) -> None:
    _plugin(tmp_path, {"src/lgo_rappels/billing.py": BLOCK, "src/lgo_rappels/export.py": "import os\n" + BLOCK})
    report = repeats.check(tmp_path)
    assert report.duplicated_lines >= repeats.MIN_LINES
    assert "lgo_rappels/billing.py" in report.text and "lgo_rappels/export.py" in report.text


def test_tests_migrations_and_contract_kits_are_not_shipped_code(tmp_path: Path) -> None:
    _plugin(
        tmp_path,
        {
            "src/lgo_rappels/billing.py": BLOCK,
            "src/lgo_rappels/testing.py": BLOCK,
            "src/lgo_rappels/migrations/versions/0001_first.py": BLOCK,
            "tests/test_billing.py": BLOCK,
        },
    )
    assert [path.name for path in repeats.shipped_files(tmp_path)] == ["billing.py"]
    assert repeats.check(tmp_path).duplicated_lines == 0


def test_a_block_of_other_names_and_values_is_not_a_repeat(tmp_path: Path) -> None:
    other = BLOCK.replace("amount", "weight").replace("unit_price", "unit_weight").replace("round", "float")
    _plugin(tmp_path, {"src/lgo_rappels/billing.py": BLOCK, "src/lgo_rappels/shipping.py": other})
    assert repeats.check(tmp_path).duplicated_lines == 0
