"""forum.core.spreadsheet: the CSV every export writes keeps formula-like cells as text."""

import csv
import io

import pytest

from forum.core import spreadsheet


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(start):
    assert spreadsheet.cell(f"{start}HYPERLINK(\"http://x\")") == f"'{start}HYPERLINK(\"http://x\")"


def test_other_cells_are_left_as_they_are():
    assert spreadsheet.cell("Support assistant") == "Support assistant"
    assert spreadsheet.cell("a=b") == "a=b"
    assert spreadsheet.cell(-3) == -3  # numbers are numbers, not text
    assert spreadsheet.cell(None) is None


def test_rows_text_reads_back_with_the_csv_module():
    text = spreadsheet.rows_text(["name", "note"], [["A, B", 'say "hi"'], ["=1+1", "line\nbreak"]])
    assert text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["name", "note"], ["A, B", 'say "hi"'], ["'=1+1", "line\nbreak"]]


def test_chunks_yield_one_piece_per_batch_and_the_header_alone_when_empty():
    assert list(spreadsheet.chunks(["a"], [])) == ["a\r\n"]
    pieces = list(spreadsheet.chunks(["a"], [[[1], [2]], [[3]]]))
    assert pieces == ["a\r\n1\r\n2\r\n", "3\r\n"]
