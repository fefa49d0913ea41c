# edgefn's Python runtime, started as `/usr/bin/python3 -S bootstrap.py` (see ../README.md).
# The loop lives in edgefn_runtime.py beside this file: Python caches a module's bytecode in
# __pycache__ but compiles a script at every start (~3 ms for the whole runtime).
try:
    import edgefn_runtime
except ModuleNotFoundError as e:
    if e.name != "edgefn_runtime":
        raise
    import sys

    sys.stderr.write("edgefn runtime: edgefn_runtime.py is missing beside %s: install the whole directory\n" % __file__)
    sys.exit(1)

edgefn_runtime.main()
