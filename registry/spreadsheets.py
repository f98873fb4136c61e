"""Spreadsheet output that Excel and LibreOffice never execute (formula injection, CWE-1236).

Every export (public list, admin, import round trip, commands) writes cells through these helpers.
"""

from registry.validators import REFUSED_IN_TEXT

# A cell starting with one of these is read as a formula (or DDE) by Excel or LibreOffice.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Prefixed to a dangerous CSV value. Spreadsheet programs show the rest as text; importers strip it.
TEXT_PREFIX = "'"


def printable(text):
    """`text` with every character the registry refuses in typed text (registry.validators) shown as U+FFFD:
    rows stored before the rule, or written past it, still export (openpyxl refuses control characters)
    and cannot display as something else (a direction override)."""
    return REFUSED_IN_TEXT.sub("\ufffd", text)


def neutralise(value):
    """Return `value` safe for a CSV cell: text that could start a formula gets a leading apostrophe."""
    if value is None:
        return ""
    text = printable(str(value))
    if text.startswith(FORMULA_TRIGGERS):
        return TEXT_PREFIX + text
    return text


def unneutralise(value):
    """Undo `neutralise` when a sheet we exported comes back in: "'+4791844552" reads as "+4791844552"."""
    if isinstance(value, str) and value.startswith(TEXT_PREFIX) and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def write_text_row(worksheet, values):
    """Append `values` to an openpyxl worksheet as text cells, which are never evaluated as formulas."""
    worksheet.append([None if value is None else printable(str(value)) for value in values])
    for cell in worksheet[worksheet.max_row]:
        if cell.value is not None:
            # openpyxl turns a string starting with "=" into a formula; force the string type back.
            cell.data_type = "s"
