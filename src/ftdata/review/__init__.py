"""`ftdata review`: people review the riskiest records of a dataset, and a random audit sample of the rest.

    queue.py   check the dataset, score each record's risk, build the queue (`ftdata review queue`)
    store.py   the one SQLite file: records, findings, decisions with versions, undo history
    server.py  the page and its JSON API on 127.0.0.1 (`ftdata review serve`); static/ holds the page
    render.py  a record as a conversation, an edit re-checked, a word-level diff
    stats.py   the audit's error-rate estimate and the judge's agreement with people
    export.py  the reviewed dataset, or records for Argilla (`ftdata review export`)
"""
