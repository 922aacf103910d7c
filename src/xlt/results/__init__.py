"""The study directory's schema: where each file lies (`layout`), the rows of results.csv and contrasts.csv
(`rows`) and the JSON records (`records`); what `xlt run` writes and the report (or any reader) relies on."""
