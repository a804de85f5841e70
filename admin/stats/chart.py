"""Bar charts of statistics tables as plain SVG.

Presentation attributes only (no script, no style attribute), so the console
can inline a chart under its Content-Security-Policy. A hidden count gets no
bar, only its marker.
"""

from __future__ import annotations

from markupsafe import Markup

from admin.stats.tables import Table

BAR_COLOURS = ("#1c5fa8", "#d97a00")
_ROW = 22
_LABEL_WIDTH = 300
_BAR_WIDTH = 300
_WIDTH = _LABEL_WIDTH + _BAR_WIDTH + 60


def bar_chart(
    title: str,
    table: Table,
    rows: tuple[tuple[str, tuple[str, ...]], ...],
    columns: tuple[str, ...],
) -> Markup:
    """A horizontal bar chart of table; a hidden count gets no bar, only its marker.

    Built from Markup templates whose arguments are escaped by Markup.format.
    """
    visible = [c.value for r in table.rows for c in r.cells if not c.suppressed]
    top = max(visible, default=0) or 1
    band = _ROW * len(columns)
    legend = 24 if len(columns) > 1 else 0
    height = band * len(table.rows) + legend + 8
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{w}" '
            'height="{h}" viewBox="0 0 {w} {h}" aria-label="{t}"><title>{t}</title>'
        ).format(w=_WIDTH, h=height, t=title)
    ]
    for i, (row, (text, _shown)) in enumerate(zip(table.rows, rows, strict=True)):
        y = i * band + 4
        parts.append(_TEXT_END.format(x=_LABEL_WIDTH - 6, y=y + band // 2 + 4, t=_clip(text)))
        for j, cell in enumerate(row.cells):
            bar_y = y + j * _ROW + 3
            width = 0 if cell.suppressed else round(cell.value / top * _BAR_WIDTH)
            if width:
                parts.append(
                    _RECT.format(
                        x=_LABEL_WIDTH, y=bar_y, w=width, h=_ROW - 6, fill=BAR_COLOURS[j % 2]
                    )
                )
            parts.append(
                _TEXT.format(x=_LABEL_WIDTH + width + 4, y=bar_y + _ROW - 10, t=cell.shown)
            )
    if legend:
        y = band * len(table.rows) + 8
        for j, name in enumerate(columns):
            x = _LABEL_WIDTH + j * 150
            parts.append(_RECT.format(x=x, y=y, w=12, h=12, fill=BAR_COLOURS[j % 2]))
            parts.append(_TEXT.format(x=x + 16, y=y + 11, t=name))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


_RECT = Markup('<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"/>')
_TEXT = Markup('<text x="{x}" y="{y}" font-size="12" fill="#111">{t}</text>')
_TEXT_END = Markup('<text x="{x}" y="{y}" text-anchor="end" font-size="12" fill="#111">{t}</text>')


def _clip(text: str, limit: int = 45) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
