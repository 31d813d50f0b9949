"""Data in and out of kehu, and keeping it clean: one Django app (models, admin, urls under
the `dataio:` namespace) whose code lives in a subpackage per job —

- imports/  reading CSV and XLSX files, matching columns, checking rows, writing all or
            nothing, undo, and the import wizard;
- exports/  the customer and transaction lists as CSV or XLSX;
- quality/  duplicates, merging, stale cards;
- privacy/  personal data requests: export and erasure of a person;
- normalise.py  the canonical forms of phones, e-mails and names and the formula guard,
            which all of them share.
"""
