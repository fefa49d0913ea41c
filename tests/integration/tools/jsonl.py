#!/usr/bin/env python3
"""Finds and checks one record in a JSON-lines file (edgefn's access log).

    jsonl.py FILE [--wait 3] [--where KEY=VALUE]... [--require KEY,KEY,...]
             [--check 'KEY OP VALUE']... [--count N]

Waits up to --wait seconds (logs are buffered) for a line whose fields equal
every --where (VALUE is compared with the field as a string, or as JSON when the
field is not a string: status=200, upstream_status=null).  Then:
  - every complete line of FILE must be a JSON object,
  - exactly --count lines (default 1) must match the --where filters,
  - the (last) match must have every --require key (null values count as present),
  - every --check must hold: OP is one of == != < <= > >= ~ (regex search on the
    field as text) !~; VALUE is parsed as JSON when it can be (200, null, "x",
    true) and taken as a string otherwise.
Prints the matching record on stdout (pretty JSON, keys sorted, one per line)
and exits 0; prints `FAIL: ...` lines on stderr and exits 1 otherwise.
"""
import argparse
import json
import re
import sys
import time

OPS = ("==", "!=", "<=", ">=", "<", ">", "!~", "~")


def parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def field_matches(record, key, want):
    if key not in record:
        return False
    v = record[key]
    return v == want if isinstance(v, str) else json.dumps(v) == want or v == parse_value(want)


def load(path):
    """Returns ([(lineno, record)], [problems])."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return None, ["%s does not exist" % path]
    records, problems = [], []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # an incomplete last line is still being written
    for n, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            problems.append("line %d is not JSON (%s): %s" % (n, e, line[:300]))
            continue
        if not isinstance(rec, dict):
            problems.append("line %d is not a JSON object: %s" % (n, line[:300]))
            continue
        records.append((n, rec))
    return records, problems


def check(rec, spec):
    m = re.match(r"^\s*([^\s=!<>~]+)\s*(%s)\s*(.*)$" % "|".join(re.escape(o) for o in OPS), spec)
    if not m:
        return "cannot parse --check %r (expected KEY OP VALUE)" % spec
    key, op, raw = m.group(1), m.group(2), m.group(3)
    if key not in rec:
        return "%s: no such key" % key
    v = rec[key]
    if op in ("~", "!~"):
        found = re.search(raw, v if isinstance(v, str) else json.dumps(v)) is not None
        ok = found == (op == "~")
    else:
        want = parse_value(raw)
        try:
            ok = {"==": lambda: v == want, "!=": lambda: v != want, "<": lambda: v < want, "<=": lambda: v <= want,
                  ">": lambda: v > want, ">=": lambda: v >= want}[op]()
        except TypeError:
            ok = False
    return None if ok else "%s: expected %s %s, got %s" % (key, op, raw, json.dumps(v))


def main():
    ap = argparse.ArgumentParser(description="check a record of a JSON-lines file")
    ap.add_argument("file")
    ap.add_argument("--wait", type=float, default=3.0)
    ap.add_argument("--where", action="append", default=[])
    ap.add_argument("--require", default="")
    ap.add_argument("--check", action="append", default=[])
    ap.add_argument("--count", type=int, default=1)
    args = ap.parse_args()
    where = []
    for w in args.where:
        k, eq, v = w.partition("=")
        if not eq:
            ap.error("--where needs KEY=VALUE")
        where.append((k, v))
    deadline = time.monotonic() + args.wait
    while True:
        records, problems = load(args.file)
        matches = [(n, r) for n, r in (records or []) if all(field_matches(r, k, v) for k, v in where)]
        if matches or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    fails = list(problems)
    if records is not None:
        if len(matches) != args.count:
            fails.append("%d lines match %s, expected %d; the file has %d records%s" % (
                len(matches), " and ".join("%s=%s" % kv for kv in where) or "(no filter)", args.count,
                len(records), ", the last: " + json.dumps(records[-1][1], sort_keys=True) if records else ""))
        if matches:
            rec = matches[-1][1]
            print(json.dumps(rec, sort_keys=True, indent=1))
            for key in filter(None, (k.strip() for k in args.require.split(","))):
                if key not in rec:
                    fails.append("%s: missing (record: %s)" % (key, json.dumps(rec, sort_keys=True)))
            for spec in args.check:
                why = check(rec, spec)
                if why:
                    fails.append(why)
    for f in fails:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
