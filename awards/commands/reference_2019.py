"""What the synthetic survey copies from the 2019 Digital Government survey: its scoring
dimensions, the published national means, the real ministries and the offices every province
has; plus the words the made-up department names are built from.

awards.commands.synthetic draws its agencies and scores from these tables.
"""

from __future__ import annotations

DIMENSIONS = ("policy", "capability", "services", "back_office", "infrastructure", "technology")
# Published 2019 national means per dimension, in hundredths of a point.
MEANS_2019: dict[str, tuple[int, ...]] = {
    "department": (5721, 6608, 6857, 6197, 7536, 3746),
    "provincial": (4107, 5720, 5366, 5257, 5965, 2273),
}


def _table(text: str) -> tuple[tuple[str, ...], ...]:
    """Rows of "|"-separated cells, one a line; a line ending in "|" continues on the next."""
    return tuple(tuple(row.split("|")) for row in text.strip().replace("|\n", "|").splitlines())


# Thai name | English name | Thai topic | English topic; the topic names its departments.
MINISTRIES = _table("""
สำนักนายกรัฐมนตรี|Office of the Prime Minister|กิจการรัฐบาล|Government Affairs
กระทรวงกลาโหม|Ministry of Defence|การป้องกันประเทศ|National Defence
กระทรวงการคลัง|Ministry of Finance|การคลัง|Fiscal
กระทรวงการต่างประเทศ|Ministry of Foreign Affairs|การต่างประเทศ|Foreign Relations
กระทรวงการท่องเที่ยวและกีฬา|Ministry of Tourism and Sports|การท่องเที่ยว|Tourism
กระทรวงการพัฒนาสังคมและความมั่นคงของมนุษย์|Ministry of Social Development and Human Security|
สวัสดิการสังคม|Social Welfare
กระทรวงการอุดมศึกษา วิทยาศาสตร์ วิจัยและนวัตกรรม|
Ministry of Higher Education, Science, Research and Innovation|
วิทยาศาสตร์|Science
กระทรวงเกษตรและสหกรณ์|Ministry of Agriculture and Cooperatives|การเกษตร|Agricultural
กระทรวงคมนาคม|Ministry of Transport|การขนส่ง|Transport
กระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคม|Ministry of Digital Economy and Society|ดิจิทัล|Digital
กระทรวงทรัพยากรธรรมชาติและสิ่งแวดล้อม|Ministry of Natural Resources and Environment|
สิ่งแวดล้อม|Environmental
กระทรวงพลังงาน|Ministry of Energy|พลังงาน|Energy
กระทรวงพาณิชย์|Ministry of Commerce|การค้า|Trade
กระทรวงมหาดไทย|Ministry of Interior|การปกครองท้องถิ่น|Local Administration
กระทรวงยุติธรรม|Ministry of Justice|กระบวนการยุติธรรม|Justice
กระทรวงแรงงาน|Ministry of Labour|แรงงาน|Labour
กระทรวงวัฒนธรรม|Ministry of Culture|วัฒนธรรม|Cultural
กระทรวงศึกษาธิการ|Ministry of Education|การศึกษา|Education
กระทรวงสาธารณสุข|Ministry of Public Health|สาธารณสุข|Public Health
กระทรวงอุตสาหกรรม|Ministry of Industry|อุตสาหกรรม|Industrial
""")
# "กรม" + word + Thai topic | "Department of" + English topic + word, e.g. "กรมพัฒนาการคลัง",
# "Department of Fiscal Development".
_KINDS_TH = "ส่งเสริม พัฒนา กำกับ มาตรฐาน วิจัย บริการ นโยบาย วางแผน สารสนเทศ ตรวจสอบ กิจการ"
_KINDS_TH += " ทะเบียน สถิติ บริหาร คุ้มครอง ฝึกอบรม เทคโนโลยี จดหมายเหตุ"
_KINDS_EN = "Promotion Development Regulation Standards Research Services Policy Planning"
_KINDS_EN += " Information Inspection Affairs Registration Statistics Administration Protection"
_KINDS_EN += " Training Technology Archives"
DEPARTMENT_KINDS = tuple(
    (f"กรม{th}", en) for th, en in zip(_KINDS_TH.split(), _KINDS_EN.split(), strict=True)
)
# Thai prefix (before the province) | English (after it) | parent ministry's English name.
OFFICES = _table("""
สำนักงานจังหวัด|Provincial Office|Ministry of Interior
ที่ทำการปกครองจังหวัด|Provincial Administration Office|Ministry of Interior
สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด|Provincial Local Administration Office|Ministry of Interior
สำนักงานโยธาธิการและผังเมืองจังหวัด|Provincial Public Works and Town Planning Office|Ministry of Interior
สำนักงานป้องกันและบรรเทาสาธารณภัยจังหวัด|Provincial Disaster Prevention Office|Ministry of Interior
สำนักงานที่ดินจังหวัด|Provincial Land Office|Ministry of Interior
สำนักงานสาธารณสุขจังหวัด|Provincial Public Health Office|Ministry of Public Health
สำนักงานเกษตรจังหวัด|Provincial Agricultural Office|Ministry of Agriculture and Cooperatives
สำนักงานสหกรณ์จังหวัด|Provincial Cooperative Office|Ministry of Agriculture and Cooperatives
สำนักงานประมงจังหวัด|Provincial Fisheries Office|Ministry of Agriculture and Cooperatives
สำนักงานปศุสัตว์จังหวัด|Provincial Livestock Office|Ministry of Agriculture and Cooperatives
สำนักงานพาณิชย์จังหวัด|Provincial Commerce Office|Ministry of Commerce
สำนักงานแรงงานจังหวัด|Provincial Labour Office|Ministry of Labour
สำนักงานจัดหางานจังหวัด|Provincial Employment Office|Ministry of Labour
สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด|Provincial Labour Protection Office|Ministry of Labour
สำนักงานวัฒนธรรมจังหวัด|Provincial Culture Office|Ministry of Culture
สำนักงานพัฒนาสังคมและความมั่นคงของมนุษย์จังหวัด|Provincial Social Development Office|
Ministry of Social Development and Human Security
สำนักงานการท่องเที่ยวและกีฬาจังหวัด|Provincial Tourism and Sports Office|Ministry of Tourism and Sports
สำนักงานทรัพยากรธรรมชาติและสิ่งแวดล้อมจังหวัด|Provincial Environment Office|
Ministry of Natural Resources and Environment
สำนักงานพลังงานจังหวัด|Provincial Energy Office|Ministry of Energy
สำนักงานอุตสาหกรรมจังหวัด|Provincial Industry Office|Ministry of Industry
สำนักงานยุติธรรมจังหวัด|Provincial Justice Office|Ministry of Justice
สำนักงานคุมประพฤติจังหวัด|Provincial Probation Office|Ministry of Justice
สำนักงานศึกษาธิการจังหวัด|Provincial Education Office|Ministry of Education
สำนักงานสถิติจังหวัด|Provincial Statistical Office|Ministry of Digital Economy and Society
สำนักงานขนส่งจังหวัด|Provincial Land Transport Office|Ministry of Transport
สำนักงานคลังจังหวัด|Provincial Treasury Office|Ministry of Finance
สำนักงานพระพุทธศาสนาจังหวัด|Provincial Office of Buddhism|Office of the Prime Minister
""")
