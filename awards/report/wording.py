"""The report's words: each award's rules, its cuts and the sensitivity notes, Thai first
with the English beside it.

Every item is a `Said`: a label and a text in Thai, and the same in English. The Thai is
what a Thai reader is meant to read; the English follows it, smaller, for everyone else and
for checking one against the other. Identifiers of the workflow file (field keys, dimension
keys) appear only where the workflow declares no title for them.
"""

from __future__ import annotations

from typing import NamedTuple

from awards.rules.ranking import chain, describe_cut
from awards.rules.workflow import (
    NAME_KEYS,
    UNIQUE_KEY,
    WEIGHTED,
    Award,
    Cut,
    Review,
    Tier,
    Workflow,
)

# The survey's own text columns, which the workflow does not declare as fields.
COLUMNS_TH = {"province": "จังหวัด", "ministry": "กระทรวง", "level": "ระดับ"}
APPROVALS_TH = {"majority": "เสียงข้างมาก", "unanimous": "เอกฉันท์"}
AGGREGATES_TH = {"mean": "ค่าเฉลี่ย", "median": "มัธยฐาน"}
RANK_BY_TH = {"survey": "คะแนนจากแบบสำรวจ", "reviewed": "คะแนนของคณะกรรมการ"}
TIE_KEYS_TH = {
    "score": "คะแนน",
    NAME_KEYS[0]: "ชื่อภาษาไทย (เรียงตามพจนานุกรม)",
    NAME_KEYS[1]: "ชื่อภาษาอังกฤษ",
    UNIQUE_KEY: "รหัสหน่วยงาน",
}


class Said(NamedTuple):
    """One line of the report in both languages."""

    label_th: str
    label_en: str
    th: str
    en: str


def field_th(wf: Workflow, key: str) -> str:
    """A survey field's Thai title: declared, a known column's, or its key."""
    declared = next((f.title_th for f in wf.fields if f.key == key and f.title_th), "")
    return declared or COLUMNS_TH.get(key, key)


def cut_th(cut: Cut) -> str:
    """A cut in Thai: '20 อันดับแรก', 'คะแนนตั้งแต่ 60.00', or both."""
    parts = []
    if cut.top is not None:
        parts.append(f"{cut.top} อันดับแรก")
    if cut.threshold is not None:
        parts.append(f"คะแนนตั้งแต่ {cut.threshold}")
    return " ที่มี".join(parts)


def band(tier: Tier) -> tuple[str, str]:
    """A tier's score band, Thai and English."""
    th = f"คะแนนตั้งแต่ {tier.min}" + (f" แต่ต่ำกว่า {tier.max}" if tier.max is not None else "")
    en = f"score ≥ {tier.min}" + (f" and < {tier.max}" if tier.max is not None else "")
    return th, en


def rules(wf: Workflow, award: Award) -> list[Said]:
    """The award's rules as the report states them, in the order they are applied."""
    pool = award.pool
    levels = {lv.key: lv for lv in wf.levels}
    level = levels.get(pool.level or "")
    th = [f"{level.title_th}" if level else "ทุกระดับ"]
    en = [f"level {pool.level}" if pool.level else "every level"]
    if pool.responded is not None:
        th.append("เฉพาะผู้ตอบแบบสำรวจ" if pool.responded else "เฉพาะผู้ไม่ได้ตอบแบบสำรวจ")
        en.append("respondents" if pool.responded else "non-respondents")
    for k, v in pool.flags.items():
        th.append(f"{field_th(wf, k)} = {'ใช่' if v else 'ไม่ใช่'}")
        en.append(f"{k} = {'yes' if v else 'no'}")
    for sign, bounds in (("≥", pool.min), ("≤", pool.max)):
        th += [f"{field_th(wf, k)} {sign} {v}" for k, v in bounds.items()]
        en += [f"{k} {sign} {v}" for k, v in bounds.items()]
    for k, values in pool.where.items():
        joined = ", ".join(values)
        th.append(
            f"{field_th(wf, k)} เป็นหนึ่งใน {joined}"
            if len(values) > 1
            else f"{field_th(wf, k)} = {joined}"
        )
        en.append(f"{k} one of {joined}" if len(values) > 1 else f"{k} = {joined}")
    if award.group_by:
        g = award.group_by
        th.append(f"รวมกลุ่มตาม{field_th(wf, g.field)} (อย่างน้อย {g.min_members} หน่วยงาน)")
        en.append(f"grouped by {g.field} (at least {g.min_members})")
    said = [Said("ผู้มีสิทธิ์", "pool", ", ".join(th), ", ".join(en)), _score(wf, award)]
    said.append(Said("คัดเลือกเบื้องต้น", "shortlist", cut_th(award.shortlist) or "ทุกราย", describe_cut(award.shortlist) or "everyone"))  # fmt: skip
    said.append(Said("ผู้ได้รับรางวัล", "winners", cut_th(award.winners) or "ทุกราย", describe_cut(award.winners) or "everyone"))  # fmt: skip
    if award.segment_by:
        name = field_th(wf, award.segment_by)
        said.append(Said("แยกกลุ่ม", "segments", f"ใช้เกณฑ์ภายในแต่ละ{name}", f"the cuts apply within each {award.segment_by}"))  # fmt: skip
    if award.quota:
        q = award.quota
        said.append(Said(
            "โควตา", "quota",
            f"ไม่เกิน {q.max} รางวัลต่อ{field_th(wf, q.field)} ผู้มีสิทธิ์ลำดับถัดไปได้รับตำแหน่งที่ถูกข้าม",
            f"at most {q.max} winners per {q.field}; the next eligible takes a skipped place",
        ))  # fmt: skip
    if award.tiers:
        bands = [(t, band(t)) for t in award.tiers]
        said.append(Said(
            "ระดับรางวัล", "tiers",
            "; ".join(f"{t.title_th} {th_band}" for t, (th_band, _) in bands),
            "; ".join(f"{t.title_en or t.title_th} {en_band}" for t, (_, en_band) in bands),
        ))  # fmt: skip
    if award.ties == "joint":
        said.append(Said("คะแนนเท่ากัน", "ties", "ทุกรายที่คะแนนเท่ากับผู้ได้รับรางวัลลำดับสุดท้ายได้รับรางวัลร่วม", "everyone tied on score with the last winner wins (joint)"))  # fmt: skip
    said.append(_review(award))
    keys = chain(award)
    titles = {d.key: f"มิติ{d.title_th}" for d in wf.dimensions}
    said.append(Said(
        "ลำดับเมื่อคะแนนเท่ากัน", "tie-break",
        " → ".join(TIE_KEYS_TH.get(k) or titles.get(k) or field_th(wf, k) for k in keys),
        " → ".join(keys),
    ))  # fmt: skip
    return said


def _score(wf: Workflow, award: Award) -> Said:
    if award.score == WEIGHTED:
        return Said("คะแนน", "score", "คะแนนรวมถ่วงน้ำหนัก", "weighted score")
    dims = {d.key: d for d in wf.dimensions}
    if award.score in dims:
        return Said("คะแนน", "score", f"มิติ{dims[award.score].title_th}", f"dimension {award.score}")  # fmt: skip
    return Said("คะแนน", "score", f"จำนวน{field_th(wf, award.score)}", f"the count {award.score}")  # fmt: skip


def _review(award: Award) -> Said:
    r = award.review
    if not r.required:
        return Said("คณะกรรมการพิจารณา", "committee review", "ไม่มี", "none")
    if not award.rounds:
        th, en = _rule(r)
        return Said("คณะกรรมการพิจารณา", "committee review", th, en)
    said = [_rule(rule) for rule in award.rounds]
    for i, rule in enumerate(award.rounds[:-1]):  # every round but the last has its cut
        cut = rule.cut or Cut()
        said[i] = (
            f"{said[i][0]}, ผ่านเข้ารอบถัดไป {cut_th(cut)}",
            f"{said[i][1]}; on to the next round: {describe_cut(cut)}",
        )
    th = "; ".join(f"รอบที่ {n} {t}" for n, (t, _) in enumerate(said, start=1))
    en = "; ".join(f"round {n}: {e}" for n, (_, e) in enumerate(said, start=1))
    return Said("คณะกรรมการพิจารณา", "committee review", th, en)


def _rule(r: Review) -> tuple[str, str]:
    """One review rule (or round) in Thai and English; its panel by the reviewers' ids."""
    th = (
        f"องค์ประชุม {r.quorum} คน, อนุมัติด้วย{APPROVALS_TH.get(r.approval, r.approval)}, "
        f"ใช้{AGGREGATES_TH.get(r.aggregate, r.aggregate)}ของคะแนนกรรมการ, "
        f"จัดอันดับตาม{RANK_BY_TH.get(r.rank_by, r.rank_by)}"
    )
    en = (
        f"quorum {r.quorum}, {r.approval}, {r.aggregate} of the reviewers' scores, "
        f"ranked by the {r.rank_by} score"
    )
    if r.panel:
        th += f", คณะกรรมการ {', '.join(r.panel)}"
        en += f", panel {', '.join(r.panel)}"
    return th, en


def sensitivity_note(award: Award, note: str) -> tuple[str, str]:
    """Why an award has no weight sensitivity, in Thai and English (awards.rules.sensitivity
    gives the English; the cases are its three)."""
    if not note:
        return "", ""
    if award.score != WEIGHTED:
        return f"จัดอันดับด้วยคะแนนเพียงรายการเดียว ({award.score}) น้ำหนักของมิติจึงไม่มีผล", note
    if note.startswith("no ranking cut"):
        return "ไม่มีการตัดอันดับ: ผู้ได้รับการเสนอชื่อทุกรายได้รับการคัดเลือก", note
    if "committee" in note:
        return "ผู้ได้รับรางวัลจัดอันดับตามคะแนนของคณะกรรมการ ไม่ใช่คะแนนจากแบบสำรวจ การจัดอันดับแบบสำรวจใหม่จึงไม่ได้ผลเดิม", note  # fmt: skip
    return "", note
