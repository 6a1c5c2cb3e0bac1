"""awards: an awards selection workflow engine.

Workflow files declare a cycle's awards and their rules; a survey is imported, scored and
ranked by pure functions; one state machine moves every nomination; every decision is
appended to a hash-chained log that can be verified and replayed offline.
"""

__version__ = "0.1.0"
