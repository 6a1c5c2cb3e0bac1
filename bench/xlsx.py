"""Survey workbook reading: time and peak memory of `read_survey` on an N-row .xlsx.

    python bench/xlsx.py                  # 100,000 rows
    python bench/xlsx.py 10000 1000000    # chosen sizes

Each size writes a survey workbook shaped like the 2019 one (openpyxl's write-only mode, as
a spreadsheet program would save it: shared strings, numbers as numbers), then reads it in
a fresh process so the peak memory (max RSS) is that of reading alone. Prints one Markdown
table row per size, with the sheet's uncompressed size next to the file's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

READ = """
import json, resource, sys, time
from awards.paths import shipped_workflow
from awards.rules.survey import read_survey
from awards.rules.workflow_file import load_workflow
workflow = load_workflow(shipped_workflow("dga-2019"))
start = time.perf_counter()
survey = read_survey(sys.argv[1], workflow)
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"agencies": len(survey.agencies), "seconds": seconds, "rss_mb": rss}))
"""


def write(path: Path, n: int) -> None:
    """An n-row survey: departments and provincial agencies in the 76 provinces."""
    from openpyxl import Workbook

    from awards.rules.thai import province_names

    provinces = sorted(p for p in province_names() if p != "กรุงเทพมหานคร")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("survey")
    sheet.append(
        ["agency_id", "name_th", "name_en", "level", "ministry", "province", "responded",
         "policy", "capability", "services", "back_office", "infrastructure", "technology",
         "copy_free"]
    )  # fmt: skip
    for i in range(n):
        provincial = i % 5 != 0
        sheet.append(
            [f"A{i:07d}", f"สำนักงานทดสอบที่ {i}", f"Test office {i}",
             "provincial" if provincial else "department", "กระทรวงมหาดไทย",
             provinces[i % len(provinces)] if provincial else "", "yes",
             *(round(40 + (i * 7 + d * 13) % 6000 / 100, 2) for d in range(6)),
             "yes" if i % 3 == 0 else "no"]
        )  # fmt: skip
    book.save(path)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100_000]
    print("| rows | file | sheet XML | read | peak RSS |")
    print("|---:|---:|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "survey.xlsx"
            write(path, n)
            with zipfile.ZipFile(path) as z:
                sheet = max(i.file_size for i in z.infolist())
            out = subprocess.run(
                [sys.executable, "-c", READ, str(path)], capture_output=True, text=True, check=True
            ).stdout
            r = json.loads(out)
            assert r["agencies"] == n, r
            print(
                f"| {n:,} | {path.stat().st_size / 1e6:.1f} MB | {sheet / 1e6:.1f} MB "
                f"| {r['seconds']:.1f} s | {r['rss_mb']} MB |"
            )


if __name__ == "__main__":
    main()
