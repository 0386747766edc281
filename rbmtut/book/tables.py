"""Results tables that render as tables: HTML in the book, aligned text in a log.

A chapter builds its rows from the same values it asserts on, and displays them
with :func:`show_table`::

    book.show_table(
        [(name, r["log_z"], r["test"]) for name, r in results.items()],
        columns=["model", "log Z", "test log p(v)"],
        formats={"log Z": ".2f", "test log p(v)": ".2f"},
    )

Jupyter, Colab and the built book show the HTML; nbval, a terminal and CI logs
see the plain-text form, with the same numbers.
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping, Sequence

__all__ = ["Table", "show_table"]


class Table:
    """A small table of results with an HTML and a plain-text rendering.

    Args:
        rows: sequence of rows, each a sequence with one entry per column.
            ``None`` is shown as an empty cell.
        columns: the column headers, shape (n_columns,).
        formats: column header -> format spec (e.g. ``".2f"``, ``",.0f"``,
            ``".1%"``) for its numbers; other numbers use ``str``.
        caption: optional text shown above the table.

    Raises:
        TypeError: if ``columns`` is not a sequence of strings or ``formats``
            not a mapping.
        ValueError: if a row's length differs from the number of columns, or
            ``formats`` names a column that does not exist.
    """

    def __init__(
        self,
        rows: Sequence[Sequence],
        columns: Sequence[str],
        *,
        formats: Mapping[str, str] | None = None,
        caption: str | None = None,
    ):
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise TypeError("columns must be a sequence of header strings.")
        formats = {} if formats is None else formats
        if not isinstance(formats, Mapping):
            raise TypeError("formats must map column headers to format specs.")
        unknown = set(formats) - set(columns)
        if unknown:
            raise ValueError(f"formats names unknown columns {sorted(unknown)}.")
        self.columns = list(columns)
        self.rows = [list(row) for row in rows]
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"row {i} has {len(row)} entries for {len(self.columns)} columns."
                )
        self.formats = dict(formats)
        self.caption = caption

    def cells(self) -> list[list[str]]:
        """Every entry as the text shown, row by row."""
        return [
            [
                self._text(value, self.formats.get(column))
                for value, column in zip(row, self.columns)
            ]
            for row in self.rows
        ]

    @staticmethod
    def _text(value, spec) -> str:
        if value is None:
            return ""
        if spec and isinstance(value, numbers.Number) and not isinstance(value, bool):
            return format(value, spec)
        return str(value)

    def _numeric(self, j: int) -> bool:
        """Whether column ``j`` holds numbers (or numbers already formatted)."""
        values = [row[j] for row in self.rows if row[j] is not None]
        return bool(values) and all(_is_number(v) for v in values)

    def _repr_html_(self) -> str:
        align = [
            "right" if self._numeric(j) else "left" for j in range(len(self.columns))
        ]
        head = "".join(
            f'<th style="text-align:{a}">{html.escape(c)}</th>'
            for c, a in zip(self.columns, align)
        )
        body = "".join(
            "<tr>" + "".join(
                f'<td style="text-align:{a}"{" class=num" if a == "right" else ""}>'
                f"{html.escape(text)}</td>"
                for text, a in zip(row, align)
            ) + "</tr>"
            for row in self.cells()
        )
        caption = ""
        if self.caption:
            caption = f"<caption>{html.escape(self.caption)}</caption>"
        return (
            f'<table class="rbmtut-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def __repr__(self) -> str:
        cells = self.cells()
        widths = [
            max([len(c)] + [len(row[j]) for row in cells])
            for j, c in enumerate(self.columns)
        ]
        numeric = [self._numeric(j) for j in range(len(self.columns))]

        def line(texts):
            return "  ".join(
                t.rjust(w) if right else t.ljust(w)
                for t, w, right in zip(texts, widths, numeric)
            ).rstrip()

        lines = [self.caption] if self.caption else []
        lines += [line(self.columns), line(["-" * w for w in widths])]
        lines += [line(row) for row in cells]
        return "\n".join(lines)


def _is_number(value) -> bool:
    if isinstance(value, str):
        try:
            float(value.replace(",", ""))
        except ValueError:
            return False
        return True
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def show_table(rows, columns, *, formats=None, caption=None) -> Table:
    """Display a :class:`Table` in the notebook (plain text elsewhere) and return it.

    Arguments as for :class:`Table`.
    """
    table = Table(rows, columns, formats=formats, caption=caption)
    try:
        from IPython.display import display
    except ImportError:  # plain Python: print the text form
        print(repr(table))
    else:
        display(table)
    return table
