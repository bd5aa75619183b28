#!/usr/bin/env bash
# Install ANUGA (binary wheel from PyPI, bundles its own libgomp) in a venv.
#   nice -n 15 bash setup_anuga.sh [/work/peers/venv-anuga]
# Needs a CPython for which PyPI has an anuga wheel (3.11 was used here).
set -euo pipefail
V=${1:-/work/peers/venv-anuga}
PY=${PYTHON:-python3}
[ -x "$V/bin/python" ] || "$PY" -m venv "$V"
"$V/bin/pip" install -q "${ANUGA_SPEC:-anuga==4.2.0}"
"$V/bin/python" -c 'import anuga, numpy; print("anuga", anuga.__version__, "numpy", numpy.__version__)' 2>&1 | grep -v mpi4py
