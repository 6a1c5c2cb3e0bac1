"""Certificates and plaques: what each awarded nomination prints (serial, verification code,
recipient), the Jinja2 templates to HTML, WeasyPrint to PDF in batches, splitting a batch
into files, `awards render` and `awards verify`.

sheet.py, html.py, typeset.py, qrdraw.py, batches.py and pdfsplit.py need no database
(render workers load only these); plan.py and issuing.py read and record through awards.store.
"""
