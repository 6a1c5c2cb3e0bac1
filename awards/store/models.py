"""Database tables (SQLModel). Fields only: every change of state goes through awards.moves.

The tables are a projection of the decision log (`event`), which is the truth.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Cycle(SQLModel, table=True):
    id: str = Field(primary_key=True)
    title_th: str
    title_en: str
    year: int
    year_be: int
    workflow_sha256: str
    workflow_path: str
    workflow_text: str  # the exact rules this cycle runs, so later commands need no file
    created_at: str


class SurveyImport(SQLModel, table=True):
    __tablename__ = "survey_import"
    id: int | None = Field(default=None, primary_key=True)
    cycle: str = Field(index=True)
    sha256: str
    path: str
    agencies: int
    imported_at: str
    seq: int  # the log event that recorded the import


class Agency(SQLModel, table=True):
    cycle: str = Field(primary_key=True)
    agency_id: str = Field(primary_key=True)
    name_th: str
    name_en: str
    level: str
    ministry: str
    province: str
    responded: bool
    scores: str | None  # JSON list of decimal strings in the workflow's dimension order
    flags: str  # JSON object flag -> bool
    fields: str = Field(default="{}", sa_column_kwargs={"server_default": "{}"})  # declared


class Nomination(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("cycle", "award", "nominee_id"),
        Index("ix_nomination_state", "cycle", "award", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cycle: str
    award: str
    nominee_id: str
    name_th: str
    name_en: str
    level: str
    ministry: str
    province: str
    members: int
    scores: str  # JSON list of decimal strings in the workflow's dimension order
    weighted: str
    score: str  # the score the award ranks by
    # JSON object: the declared text fields the nominee carries (for segments and quotas)
    fields: str = Field(default="{}", sa_column_kwargs={"server_default": "{}"})
    state: str
    rank: int | None = None  # at the last ranking stage it went through
    seq: int  # the last log event that moved it
    # The review round it is in: 1, and one more each time a round's close sends it on.
    round: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class Reviewer(SQLModel, table=True):
    """A committee member of one cycle; affiliations decide conflicts of interest."""

    cycle: str = Field(primary_key=True)
    reviewer_id: str = Field(primary_key=True)
    name: str
    ministries: str  # JSON list of names
    provinces: str  # JSON list of names
    seq: int  # the log event that declared the reviewer


class Assignment(SQLModel, table=True):
    """A reviewer's place on one nomination: `assigned`, or `recused` (a declared conflict;
    such a reviewer is never assigned to it again)."""

    __table_args__ = (UniqueConstraint("nomination_id", "reviewer"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle: str = Field(index=True)
    nomination_id: int = Field(index=True)
    reviewer: str
    state: str
    seq: int


class Verdict(SQLModel, table=True):
    """A reviewer's current verdict; every earlier one is in the log."""

    __table_args__ = (UniqueConstraint("nomination_id", "reviewer"),)
    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(index=True)
    reviewer: str
    approve: bool
    scores: str = "{}"  # JSON object dimension key -> adjusted score (decimal string)
    note: str
    at: str
    seq: int


def _only(kind: str) -> dict[str, Any]:
    """A partial index's condition on both backends: rows of one kind of event."""
    return {f"{d}_where": text(f"kind = '{kind}'") for d in ("sqlite", "postgresql")}


class Event(SQLModel, table=True):
    """One decision: its exact canonical bytes, chained to the one before in its cycle by
    `prev`. Each cycle's events are a chain of their own, numbered from 1: the key is
    (cycle, seq), which with the writer lock keeps each chain linear.

    Checkpoints and renderings are found by their own small indexes (partial: they cost
    nothing when a stage writes a million transitions); `awards verify` and every checkpoint
    look them up."""

    __table_args__ = (
        Index("ix_event_subject", "cycle", "award", "nominee"),
        Index("ix_event_checkpoint", "cycle", "seq", **_only("checkpoint")),
        Index("ix_event_rendered", "cycle", "seq", **_only("certificate_rendered")),
    )
    cycle: str = Field(primary_key=True)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    prev: str
    hash: str  # SHA-256 of body
    kind: str
    award: str | None = None
    nominee: str | None = None
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Certificate(SQLModel, table=True):
    """One rendered PDF of an awarded nomination. A nomination keeps its serial and its
    verification code (derived from the event that awarded it) across re-renders; each
    rendering is a row of its own, logged by a `certificate_rendered` event (`seq`).
    Append-only like the log: the database refuses UPDATE and DELETE (revision 0003)."""

    __table_args__ = (
        Index("ix_certificate_nomination", "nomination_id"),
        Index("ix_certificate_serial", "serial"),
        Index("ix_certificate_code", "code"),
        Index("ix_certificate_pdf", "pdf_sha256"),
    )
    id: int | None = Field(default=None, primary_key=True)
    cycle: str
    award: str
    nominee_id: str
    nomination_id: int
    serial: str  # e.g. DGA-2562-PLQ-0001; the file is <serial>.pdf
    code: str  # verification code, e.g. K7QF-9XMD-2ABC-DEFG
    template: str
    template_sha256: str
    pdf_sha256: str
    size: int
    pdfa: bool
    rendered_at: str
    actor: str
    seq: int  # the log event that recorded this rendering
