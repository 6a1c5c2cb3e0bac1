"""The library calls behind the command line: open and import a cycle, advance, assign and
review, the results (status, ranking), the log as a record (history, export, verify), audit
and the demo. Each takes plain arguments and returns a dataclass; cli.py prints it.

Modules here may import any layer below: awards.store, awards.log, awards.rules, and
awards.certificates for the demo.
"""
