#!/usr/bin/env bash
# Re-run every measurement of the peer comparison, one after the other.
# Meant for a QUIET machine (nothing else on the CPUs); needs root (chroot).
#
#   bash tools/peers/run_all.sh            # everything (~8 min of CPU on 2 cores)
#   bash tools/peers/run_all.sh dambreak   # only the dam-break cases (~1 min)
#   bash tools/peers/run_all.sh speed      # only the timings
#   bash tools/peers/run_all.sh theta      # only the Itzi theta/checkerboard check
#
# Prerequisites: README.md (itzi/setup_chroot.sh, setup_anuga.sh).
# Results: $PEERS_RESULTS (default /work/peers/results), summary.md at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export PEERS_RESULTS=${PEERS_RESULTS:-/work/peers/results}
ANUGA_PY=${ANUGA_PY:-/work/peers/venv-anuga/bin/python}
NICE=${NICE:-nice -n 15}
what=${1:-all}
mkdir -p "$PEERS_RESULTS"
cd "$HERE"
A() { $NICE "$ANUGA_PY" anuga_case.py "$@" --outdir "$PEERS_RESULTS"; }
I() { $NICE bash run_itzi.sh "$@"; }

if [ "$what" = all ] || [ "$what" = dambreak ]; then
  # Itzi with n = 0 needs hmin = 0 (else its Manning branch divides by n -> NaN)
  # and slope_threshold > 1 (the 1 m step at the dam is a slope of 1 > 0.8, the
  # default, which also selects the Manning branch).
  I dambreak --manning 0 --hmin 0 --opt slope_threshold=100 --tag _n0_hmin0
  I dambreak --manning 0.001 --opt slope_threshold=100 --tag _n0.001_hmin0.005
  I dambreak --manning 0.01 --opt slope_threshold=100 --tag _n0.01_slth100
  A dambreak                        # DE0 (default, euler)
  A dambreak --flow-algorithm DE1   # DE1 (rk2, 2nd order)
fi

if [ "$what" = all ] || [ "$what" = speed ]; then
  for th in 1 2; do
    export OMP_NUM_THREADS=$th
    I speed --n 2048 --duration 20 --tag "_omp$th"        # 4 194 304 cells, ~112 steps
    I speed --n 1024 --duration 20 --tag "_omp$th"        # 1 048 576 cells, ~110 steps
    A speed --m 512 --t1 2 --t2 4 --tag "_omp$th"         # 1 048 576 triangles
  done
  export OMP_NUM_THREADS=1
  I speed --n 1024 --cli-durations 10,20 --tag _omp1      # `itzi run`, 2 durations
  A speed --m 1024 --t1 1 --t2 2 --tag _omp1              # 4 194 304 triangles, ~3.4 GB
  unset OMP_NUM_THREADS
fi

if [ "$what" = all ] || [ "$what" = theta ]; then
  # Itzi default theta = 0.9 grows a 2x2 checkerboard on the speed case;
  # theta = 1 (plain Bates 2010) does not. Saves the final fields as .npy.
  for t in 0.9 1.0; do
    OMP_NUM_THREADS=1 I speed --n 1024 --duration 20 --theta $t --save-field --tag "_theta$t"
  done
fi
"$ANUGA_PY" summarize.py "$PEERS_RESULTS"
