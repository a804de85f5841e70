"""What statistics count by: the source's vocabularies, read from the questionnaire.

None is restated here (admin/questionnaire_vocab.py reads them); the one
thing added is the counting rule's order of key populations.
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
# work, then sexual and gender minorities. Every other population the
# questionnaire offers follows, in the questionnaire's order.
RANKED_FIRST: tuple[str, ...] = (
    "pwid",
    "ost_client",
    "pwud_non_injecting",
    "plhiv",
    "sex_worker",
    "transgender_woman",
    "transgender_man",
    "msm",
    "lgbtiq_other",
)
KEY_POPULATION_PRIORITY: tuple[str, ...] = (
    *RANKED_FIRST,
    *(code for code in option_codes("key_population") if code not in RANKED_FIRST),
)
