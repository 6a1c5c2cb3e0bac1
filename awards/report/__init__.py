"""The results and transparency report: one self-contained HTML file (and its PDF) with
response rates, national means, every award's table, the weight sensitivity and the log's
provenance. May import any layer below the command line.
"""
