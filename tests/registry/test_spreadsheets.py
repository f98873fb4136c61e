import io

import openpyxl
import pytest

from registry.spreadsheets import neutralise, unneutralise, write_text_row


@pytest.mark.parametrize("value", ["=1+1", "+47 91 84 45 52", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
def test_formula_triggers_are_neutralised_and_come_back_unchanged(value):
    safe = neutralise(value)
    assert safe.startswith("'") and safe[1:] == value
    assert unneutralise(safe) == value


@pytest.mark.parametrize("value", ["Oslo", "91 84 45 52", "", "O'Brien", "'plain"])
def test_ordinary_values_are_left_alone(value):
    assert neutralise(value) == value
    assert unneutralise(value) == value


def test_xlsx_cells_are_text_never_formulas():
    workbook = openpyxl.Workbook()
    write_text_row(workbook.active, ["=1+1", "+4791844552", None, 5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    row = next(openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows())
    assert [cell.value for cell in row] == ["=1+1", "+4791844552", None, "5"]
    assert [cell.data_type for cell in row if cell.value is not None] == ["s", "s", "s"]
