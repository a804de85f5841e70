"""The source's vocabularies, read from the questionnaire: the one place they are stated.

The questionnaire (portal/questionnaire/v1.json) is shared data that the
reviewer's side may load without the server; its option codes are the codes
that case events and statistics use.
"""

from __future__ import annotations

from portal.questionnaire import load_questionnaire


def option_codes(field_code: str) -> tuple[str, ...]:
    """The option codes of one questionnaire field, in the questionnaire's order."""
    return tuple(option.code for option in load_questionnaire().field(field_code).options)
