#!/usr/bin/env bash
# Run one Itzi case in a throw-away GRASS project (EPSG:25832, metres).
#
#   OMP_NUM_THREADS=1 nice -n 15 bash run_itzi.sh speed --n 2048 --duration 60
#   nice -n 15 bash run_itzi.sh dambreak --manning 0 --hmin 0
#
# Arguments after the script name go to itzi_case.py. By default this runs in
# the trixie chroot built by itzi/setup_chroot.sh (ITZI_CHROOT, default
# /work/peers/trixie). Set ITZI_CHROOT=none to use a native GRASS >= 8.4 with
# itzi importable by the python3 on PATH (e.g. an activated venv).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
R=${ITZI_CHROOT:-/work/peers/trixie}
RESULTS=${PEERS_RESULTS:-/work/peers/results}
OMP=${OMP_NUM_THREADS:-}
export PEERS_RESULTS=$RESULTS
inner="grass --tmp-project EPSG:25832 --exec python3 '$HERE/itzi_case.py' --outdir '$RESULTS'"
for a in "$@"; do inner+=" '$a'"; done
if [ "$R" = none ]; then
  exec bash -c "$inner"
fi
bash "$HERE/itzi/mounts.sh" "$R"
# env -i: do not leak the host's python/pyenv environment into the chroot
exec chroot "$R" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/opt/itzi-venv/bin:/usr/local/bin:/usr/bin:/bin \
  ${OMP:+OMP_NUM_THREADS=$OMP} /bin/bash -c "$inner"
