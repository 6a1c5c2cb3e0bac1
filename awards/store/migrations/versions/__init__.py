"""One file per schema revision, named <revision>_<slug>.py; see awards/migrations/env.py."""
