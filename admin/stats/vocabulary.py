"""What statistics count by: the source's vocabularies, read from the questionnaire.

None is restated here (admin/questionnaire_vocab.py reads them); the one
thing added is the counting rule's order of key populations (a policy,
tested against the questionnaire's codes).
"""

from __future__ import annotations

from admin.questionnaire_vocab import option_codes

NOT_STATED = "not_stated"

GENDERS = option_codes("gender")
AGE_GROUPS = option_codes("age_group")
# Regions are configuration; the questionnaire's are Kyrgyzstan's, and codes
# seen in reports are added where they are counted.
REGIONS = option_codes("region")

# A client in several key populations is counted under the first that applies:
# the most criminalised behaviour first (drug use), then HIV status, then sex
# work, then sexual and gender minorities, then the rest. The order is a
# counting policy, so every population is ranked here; tests/admin/
# test_vocabularies.py holds it to the questionnaire's codes, each once.
KEY_POPULATION_PRIORITY: tuple[str, ...] = (
    "pwid",
    "ost_client",
    "pwud_non_injecting",
    "plhiv",
    "sex_worker",
    "transgender_woman",
    "transgender_man",
    "msm",
    "lgbtiq_other",
    "tb_affected",
    "hepc",
    "prisoner",
    "former_prisoner",
    "partner_of_pwid",
    "migrant",
    "disability",
    "homeless",
    "other",
    "none",
    "prefer_not",
)
