#!/usr/bin/env python3
"""Prints fields of the JSON document on stdin, one per line.

    curl -s http://127.0.0.1:$ORIGIN_PORT/__stats | jget.py connections requests./echo/a
    curl -s ... | jget.py headers.host body_sha256

A KEY is a dot-separated path into objects (a numeric part indexes an array); a
part that itself contains dots can be written in brackets: headers.[x.y].
Strings print as they are, everything else as JSON (null, true, 12, {...}).
A missing key prints `<missing>` and makes the exit status 1; input that is not
JSON prints the input on stderr and exits 2.
"""
import json
import re
import sys


def lookup(doc, key):
    for part in re.findall(r"\[([^\]]*)\]|([^.]+)", key):
        part = part[0] or part[1]
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise KeyError(key)
    return doc


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.read()
    try:
        doc = json.loads(text)
    except ValueError as e:
        print("jget: stdin is not JSON (%s):\n%s" % (e, text[:2000]), file=sys.stderr)
        return 2
    rc = 0
    for key in sys.argv[1:]:
        try:
            v = lookup(doc, key)
            print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
        except KeyError:
            print("<missing>")
            print("jget: no %s in %s" % (key, text[:2000]), file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
