"""The decision log: the event catalogue, canonical bytes and the hash chain, the RFC 9162
Merkle tree, committee signatures, the projection (the fold of events into state) and the
offline replay.

No database: the same code checks the live log and an exported file. Modules here import
from awards.log, awards.rules, awards.errors and awards.paths only.
"""
