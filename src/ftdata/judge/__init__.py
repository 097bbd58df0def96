"""`ftdata judge`: an LLM scores every record against a rubric (rules/rubrics/*.toml).

A scored record is the input record with one more top-level key, JUDGE_KEY, holding
{"rubric", "model", "scores": {dimension: 1-5}, "overall", "verdict": keep|review|discard, "rationale", "raw"}.
`ftdata review queue` reads it (and strips it before checking and exporting).
"""

JUDGE_KEY = "ftdata_judge"
VERDICTS = ("keep", "review", "discard")
