"""The library calls behind the command line: open and import a cycle, advance, assign and
review, the results (status, ranking), the log as a record (history, export, verify), audit
and the demo. Each takes plain arguments and returns a dataclass; cli.py prints it.

Each call that reads or writes the database takes either `url=` (it opens an engine for
itself, as the command line does) or `engine=`, an engine already open
(awards.store.schema.open_engine), so that a caller making many calls, such as awards.open,
opens the database once.

Modules here may import any layer below: awards.store, awards.log, awards.rules, and
awards.certificates for the demo.
"""
