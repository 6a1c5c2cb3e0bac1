"""The surveyed agencies as the log fixes them: one SHA-256 over the rows an import stores.

The log names the survey file by its SHA-256, but `audit` has the tables, not the file. So a
survey import also logs the digest of the agencies it stores (every field the rules read:
names, level, ministry, province, response, scores, flags, declared fields), computed here the same way from
the file's rows (the import, the offline replay) and from the agency table (`audit`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson

from awards.rules.survey import Agency


def agencies_sha256(agencies: Iterable[Agency]) -> str:
    """SHA-256 of the agencies in id order, one canonical JSON array per line."""
    digest = hashlib.sha256()
    for a in sorted(agencies, key=lambda a: a.agency_id):
        row = [
            a.agency_id, a.name_th, a.name_en, a.level, a.ministry, a.province, bool(a.responded),
            None if a.scores is None else [str(s) for s in a.scores], dict(a.flags),
        ]  # fmt: skip
        if a.fields:  # declared fields; a survey without them hashes as before they existed
            row.append(dict(a.fields))
        digest.update(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")
    return digest.hexdigest()
