"""The pure rules: the workflow language and its parser, the survey reader, scoring and
ranking, the stage pipeline, the committee's rules, the weight sensitivity, the state
machine, Thai-language helpers, and how figures are written for people and for JSON.

Everything here is a function of its arguments (a workflow, survey rows, verdicts): no
database, no clock, no terminal, no PDF. Modules here import only from awards.rules,
awards.errors and awards.paths; tests/test_layers.py checks it, and that loading them loads
none of SQLAlchemy, click, rich or WeasyPrint.
"""
