#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Validate run reports against doc/report.schema.json.

usage: report-validate.py SCHEMA STORE.db   every stored report
       report-validate.py SCHEMA FILE.json  one report (e.g. run --format json)

Prints one line per report and exits 1 if any fails. Needs Debian's
python3-jsonschema (tools/install-deps); exits 77 (skip) without it.
"""
import json
import sqlite3
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (tools/install-deps)")
    sys.exit(77)


def main():
    schema_path, source = sys.argv[1], sys.argv[2]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    if source.endswith(".json"):
        with open(source, encoding="utf-8") as f:
            reports = [(source, f.read())]
    else:
        db = sqlite3.connect("file:%s?mode=ro" % source, uri=True)
        reports = db.execute(
            "SELECT id, report FROM runs WHERE report IS NOT NULL ORDER BY started").fetchall()
    if not reports:
        print("ERROR: no report to validate in %s" % source)
        return 1
    bad = 0
    for name, text in reports:
        errors = sorted(validator.iter_errors(json.loads(text)), key=lambda e: list(e.path))
        if errors:
            bad += 1
            for e in errors[:5]:
                print("ERROR: %s: at /%s: %s" % (name, "/".join(str(p) for p in e.path), e.message))
        else:
            print("valid: %s" % name)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
