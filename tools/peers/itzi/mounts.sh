#!/usr/bin/env bash
# Mount what the Itzi chroot needs: /proc, /dev, /sys and, at the same paths
# as on the host, this tools/peers folder and the results folder.
#   bash mounts.sh [CHROOT]          mount (idempotent)
#   bash mounts.sh [CHROOT] --umount unmount
set -euo pipefail
R=${1:-${ITZI_CHROOT:-/work/peers/trixie}}
TOOLS=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${PEERS_RESULTS:-/work/peers/results}
mkdir -p "$RESULTS"
if [ "${2:-}" = "--umount" ]; then
  for m in "$R$RESULTS" "$R$TOOLS" "$R/sys" "$R/dev" "$R/proc"; do
    mountpoint -q "$m" && umount "$m"
  done
  exit 0
fi
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
mountpoint -q "$R/dev"  || mount --bind /dev "$R/dev"
mountpoint -q "$R/sys"  || mount --bind /sys "$R/sys"
for d in "$TOOLS" "$RESULTS"; do
  mkdir -p "$R$d"
  mountpoint -q "$R$d" || mount --bind "$d" "$R$d"
done
