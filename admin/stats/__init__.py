"""Programme statistics from case records, and their exports.

counting.py turns case rows into figures (the counting rules are its
docstring); suppression.py hides the small counts; vocabulary.py names what
is counted, from the questionnaire; tables.py holds the figures' types;
case_rows.py reads case rows from a vault. render.py and chart.py make the
figures readable (text, CSV, SVG, a printable page) without Flask; views.py
is the console's statistics page.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark message for translation; it is translated where it is shown."""
    return message
