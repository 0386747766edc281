"""rbmtut.book.tables: results tables as HTML for the book and as text for logs."""

import html.parser

import numpy as np
import pytest

from rbmtut.book import Table, show_table


def _rows():
    return [("CD-1", -98.456, 12, None), ("PCD-1 <best>", np.float64(-97.72), 3, "x")]


class _Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.caption, self._in = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th", "caption"):
            self._in = tag
            if tag != "caption":
                self.rows[-1].append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "caption":
            self.caption = data
        elif self._in:
            self.rows[-1][-1] += data


def test_html_holds_every_formatted_value_escaped():
    table = Table(_rows(), ["model", "log p", "epochs", "note"],
                  formats={"log p": ".2f"}, caption="AIS & friends")
    parser = _Cells()
    parser.feed(table._repr_html_())
    assert parser.caption == "AIS & friends"
    assert parser.rows == [["model", "log p", "epochs", "note"],
                           ["CD-1", "-98.46", "12", ""],
                           ["PCD-1 <best>", "-97.72", "3", "x"]]
    assert "&lt;best&gt;" in table._repr_html_()


def test_text_form_aligns_numbers_right_and_text_left():
    text = repr(Table(_rows(), ["model", "log p", "epochs", "note"],
                      formats={"log p": ".2f"}))
    lines = text.splitlines()
    assert lines[0].split() == ["model", "log", "p", "epochs", "note"]
    assert lines[2].startswith("CD-1          ")
    assert lines[2].index("-98.46") + len("-98.46") == lines[3].index("-97.72") + len("-97.72")
    assert len({len(line.rstrip()) for line in lines[:2]}) == 1


def test_show_table_prints_text_outside_a_notebook(capsys):
    table = show_table([("a", 1.5)], ["name", "value"], formats={"value": ".1f"})
    out = capsys.readouterr().out
    assert "a" in out and "1.5" in out
    assert isinstance(table, Table)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(rows=[("a", 1)], columns="ab"), TypeError, "columns"),
    (dict(rows=[("a", 1)], columns=["a", 2]), TypeError, "columns"),
    (dict(rows=[("a",)], columns=["a", "b"]), ValueError, "row 0"),
    (dict(rows=[("a", 1)], columns=["a", "b"], formats={"c": ".1f"}), ValueError, "'c'"),
    (dict(rows=[("a", 1)], columns=["a", "b"], formats=[".1f"]), TypeError, "formats"),
])
def test_bad_tables_are_refused(kwargs, error, words):
    with pytest.raises(error, match=words):
        Table(**kwargs)


def test_benchmarks_render_as_tables_with_their_notes():
    from rbmtut.book.timing import Benchmark, Measurement

    bench = Benchmark("CD-1 <fast>", "examples/s", notes=["floor: 5 matmuls"], elsewhere=0.02)
    bench.rows["floor"] = Measurement("matrix-multiply floor", 34_227.4, 0.175)
    bench.rows["rbmtut"] = Measurement("rbmtut", 20_240.0, 0.296)
    page = bench._repr_html_()
    parser = _Cells()
    parser.feed(page)
    assert parser.caption == "CD-1 <fast>"
    assert parser.rows[1:] == [["matrix-multiply floor", "34,227", "0.175", "1.00"],
                               ["rbmtut", "20,240", "0.296", "0.59"]]
    assert "floor: 5 matmuls" in page and "2% of the CPU time" in page

    class Printer:
        text = staticmethod(lambda s: printed.append(s))

    printed = []
    bench._repr_pretty_(Printer, False)
    assert printed == [bench.table()]
