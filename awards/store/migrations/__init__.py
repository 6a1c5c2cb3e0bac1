"""The schema's revisions (Alembic). How to add one: env.py; the code that runs them:
awards.migrate."""
