#!/usr/bin/python3
"""What Python's html.unescape makes of every named reference in html.entities.html5.

Run with any Python 3 (the standard library only):
    python3 tests/models/clip/make_html_entities_fixture.py
Writes tests/models/clip/fixtures/html5_entities.json: the Python version and, for each of the
html5 names (with and without ';', as the table has them), [name, unescape("&" + name),
unescape("&" + name + "z")]. The second form checks what follows a reference: a legacy name
without ';' decodes before the "z", other names stay as written or match a shorter legacy name.
"""
import html
import html.entities
import json
import os
import sys

rows = [
    [name, html.unescape("&" + name), html.unescape("&" + name + "z")]
    for name in sorted(html.entities.html5)
]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "html5_entities.json")
# One row per line (stable under `deno fmt`, readable diffs).
with open(out, "w", encoding="ascii") as f:
    f.write('{\n  "python": %s,\n  "count": %d,\n  "rows": [\n' % (
        json.dumps(sys.version.split()[0]), len(rows)))
    f.write(",\n".join("    " + json.dumps(r, ensure_ascii=True) for r in rows))
    f.write("\n  ]\n}\n")
print(f"{out}: {len(rows)} names")
