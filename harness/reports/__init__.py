"""Reports from results files: merge, judge claims again, and write HTML, JUnit, Markdown.

`merge` unites results files into cells (conflicts kept), `model` groups them
into scenarios with their claims, and `html`, `junit`, `markdown` present the
same model; `outputs` writes whichever the command line asked for.
"""
