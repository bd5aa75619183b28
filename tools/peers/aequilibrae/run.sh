#!/usr/bin/env bash
# Peer measurement of AequilibraE on Sioux Falls: venv + pip install + run.py.
# Usage: bash tools/peers/aequilibrae/run.sh [extra run.py args, e.g. --algos bfw --reps 1]
# Env: VENV (default /work/scratch/venv-aeq, outside the repo), AEQ_VERSION (default 1.7.2; "" = latest),
#      DATA (default /work/shared/data/tntp).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${VENV:-/work/scratch/venv-aeq}"
AEQ_VERSION="${AEQ_VERSION-1.7.2}"
DATA="${DATA:-/work/shared/data/tntp}"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import aequilibrae" 2>/dev/null; then
  "$VENV/bin/pip" install "aequilibrae${AEQ_VERSION:+==$AEQ_VERSION}"
fi
"$VENV/bin/pip" show aequilibrae | sed -n '1,2p'
echo "machine: $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/ \+/ /g'); load: $(cat /proc/loadavg)"
date -u
# Progress bars off (AequilibraE reads AEQ_SHOW_PROGRESS at import; run.py also sets it).
AEQ_SHOW_PROGRESS=FALSE exec "$VENV/bin/python" "$HERE/run.py" --data "$DATA" "$@"
