"""What the questionnaire tests share: the configured regions, a fixed today,
markup typed by a hostile source, and validation with the required answers."""

from __future__ import annotations

from datetime import date
from typing import Any

from portal.questionnaire import Questionnaire, validate
from portal.settings import DEFAULT_REGIONS

REGIONS = list(DEFAULT_REGIONS)
TODAY = date(2025, 6, 15)
PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def check(q: Questionnaire, form: dict[str, Any], lang: str = "en") -> tuple[dict, dict]:
    """Validate form with the two required answers filled in unless form sets them."""
    full = {"store_report": ["yes"], "narrative": ["They took my methadone card."], **form}
    return validate(q, full, REGIONS, lang, today=TODAY)
