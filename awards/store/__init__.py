"""The store: the database engine and transactions, the tables, schema revisions (Alembic),
the one write path for nominations, and the queries the commands share.

Every write appends its events to the log in the same transaction. Modules here import from
awards.store, awards.log, awards.rules, awards.errors and awards.paths.
"""
