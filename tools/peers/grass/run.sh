#!/usr/bin/env bash
# Sun hours on the demo city: urban-twin vs GRASS GIS r.sun / r.horizon, same DSM, same machine.
#
#   bash tools/peers/grass/run.sh                      # every stage, results in /tmp/peer
#   WORK=/tmp/peer2 bash tools/peers/grass/run.sh      # elsewhere
#   STAGES="compare" bash tools/peers/grass/run.sh     # only some stages (see below)
#   RSUN_STEPS="0.05" NPROCS="2" bash tools/peers/grass/run.sh
#
# Stages (STAGES, default all, in this order):
#   twin      copy target/release/twin to $WORK/twin, write dsm.toml, run it once for the
#             outputs, then TWIN_REPS timed runs each with RAYON_NUM_THREADS=1 and =2
#   grass     crop dsm.tif to the 1000 x 1000 m window, create the GRASS location from it
#             (EPSG:25832), r.in.gdal, g.region raster=dsm
#   rsun      r.sun mode 2 (day=80, insol_time=) ray-marching shadows, for every step in
#             RSUN_STEPS and every thread count in NPROCS
#   horizon   r.horizon step=10 (36 sectors), full distance; plus HOR_MAXDIST runs if set
#   rsunhor   r.sun with horizon_basename=hor horizon_step=10, same steps and threads
#   horclamp  horc_XXX = max(hor_XXX, 0) for the 36 maps (r.mapcalc): GRASS 8.2's r.horizon writes
#             negative angles (down-looking, e.g. from roofs or dikes) and r.sun 8.2 stores
#             horizons as unsigned char (rint(150 * angle)), so a negative angle wraps to ~1.7 rad
#             = always in shadow (OSGeo/grass#2935; fixed in r.horizon by #2955, GRASS >= 8.3)
#   rsunhorc  r.sun with horizon_basename=horc (the clamped horizons), same steps and threads
#   rsunfill  r.sun ray-marching on dsmf = the DSM with its null cells set to -100 m (they then
#             never cast a shadow, as in urban-twin). r.sun 8.2 ends a ray that touches a null
#             cell as "sunlit" and keeps the null as the cell's last sample, so every later time
#             step of that cell is sunlit too: the rows next to the DSM's 10 null rows come out
#             in sun all day. FILL_STEPS (default 0.0166667) x FILL_NPROCS (default 2)
#   twinvar   urban-twin variants (not timed): step_min = 3 (r.sun's step=0.05) and
#             pressure_hpa = 1 (the lowest allowed: refraction 1/1013 of normal, ~0, as r.sun), outputs in $WORK/out_var_*
#   compare   r.out.gdal every insol_time map, compare.py against sun_hours_2026-03-21.tif
#
# Every timed command is run through /usr/bin/time -v (inside `grass --exec`, so GRASS's own
# start-up is not counted); before and after it the load average and the busiest other
# processes are logged, and during it /proc/loadavg is sampled every 5 s.
# One line per run goes to $WORK/timings.tsv; full logs in $WORK/logs/.
#
# Needs: grass-core (8.2.1 on Debian 12), gdal-bin, python3-gdal + python3-numpy (system
# python /usr/bin/python3), and a built urban-twin (cargo build --release) -- this script
# never builds. Run timings on a machine as quiet as you can get; stages run one at a time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
WORK=${WORK:-/tmp/peer}
TWIN_SRC=${TWIN_SRC:-$REPO/target/release/twin}
TWIN=$WORK/twin
STAGES=${STAGES:-"twin grass rsun horizon rsunhor horclamp rsunhorc rsunfill twinvar compare"}
RSUN_STEPS=${RSUN_STEPS:-"0.05 0.0166667"}
NPROCS=${NPROCS:-"1 2"}
TWIN_REPS=${TWIN_REPS:-3}
TAG=${TAG:-}                        # appended to run/map names, for repeated runs (e.g. TAG=_r2)
FILL_STEPS=${FILL_STEPS:-0.0166667}
FILL_NPROCS=${FILL_NPROCS:-2}
HOR_MAXDIST=${HOR_MAXDIST:-}        # e.g. "500" for an extra r.horizon run with maxdistance=500
PY=${PY:-/usr/bin/python3}          # needs osgeo.gdal and numpy
DAY=2026-03-21
DOY=80
# the criterion bench window (x 565492..566492, y 5928010..5929010), EPSG:25832
W=565492; S=5928010; E=566492; N=5929010
LOC=$WORK/grassdata/peer
mkdir -p "$WORK/logs"
TSV=$WORK/timings.tsv
[ -f "$TSV" ] || printf 'name\tthreads\twall_s\tuser_s\tsys_s\tcpu_pct\tmaxrss_kb\tload1_before\tload1_mean_during\tload1_after\tshadow_s\tcommand\n' > "$TSV"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
has() { case " $STAGES " in *" $1 "*) return 0 ;; esac; return 1; }
G() { grass "$LOC/PERMANENT" --exec "$@"; }

# busiest processes other than ours (pcpu > 10), for the log
others() { ps -eo pid,pcpu,etime,comm --sort=-pcpu | awk 'NR>1 && $2>10' | head -5 | tr '\n' ';'; }

# timed NAME THREADS [grass] CMD...: /usr/bin/time -v, load before/during/after, one TSV line.
timed() {
  local name=$1 threads=$2; shift 2
  local ingrass=0
  if [ "$1" = grass ]; then ingrass=1; shift; fi
  local tf=$WORK/logs/$name.time lf=$WORK/logs/$name.load
  local lb; lb=$(cut -d' ' -f1 /proc/loadavg)
  { echo "before: $(uptime)"; echo "others: $(others)"; } > "$lf"
  : > "$lf.samples"
  ( while :; do echo "$(date +%s) $(cat /proc/loadavg)"; sleep 5; done ) >> "$lf.samples" &
  local sampler=$!
  log "$name (threads $threads, load $lb): $*"
  local rc=0
  if [ $ingrass = 1 ]; then
    G /usr/bin/time -v -o "$tf" "$@" > "$WORK/logs/$name.out" 2>&1 || rc=$?
  else
    /usr/bin/time -v -o "$tf" "$@" > "$WORK/logs/$name.out" 2>&1 || rc=$?
  fi
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  if [ $rc != 0 ]; then log "  FAILED (exit $rc), see $WORK/logs/$name.out"; return $rc; fi
  local la; la=$(cut -d' ' -f1 /proc/loadavg)
  { echo "after: $(uptime)"; echo "others: $(others)"; } >> "$lf"
  local lm; lm=$(awk '{s+=$2; n++} END {if (n) printf "%.2f", s/n; else print "nan"}' "$lf.samples")
  local wall user sys cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tf")
  user=$(awk -F': ' '/User time/ {print $2}' "$tf")
  sys=$(awk -F': ' '/System time/ {print $2}' "$tf")
  cpu=$(awk -F': ' '/Percent of CPU/ {sub("%","",$2); print $2}' "$tf")
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$tf")
  local shadow=""
  if [ -n "${SUMMARY:-}" ]; then shadow=$(shadow_s "$SUMMARY"); fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$threads" "$wall" "$user" "$sys" \
    "$cpu" "$rss" "$lb" "$lm" "$la" "$shadow" "$*" >> "$TSV"
  log "  wall ${wall}s${shadow:+ (shadow ${shadow}s)} user ${user}s sys ${sys}s cpu ${cpu}% (load before $lb, mean $lm, after $la)"
}

shadow_s() { "$PY" -c "import json,sys; print(round(dict(json.load(open(sys.argv[1]))['timing_s'])['shadow'],4))" "$1"; }

if has twin; then
  cp "$TWIN_SRC" "$TWIN"   # the original may be rebuilt at any moment
  "$TWIN" --version > "$WORK/logs/twin.version"
  cat > "$WORK/dsm.toml" <<EOF
[scenario]
name = "peer-dsm"
[city.demo]
seed = 1
[outputs]
glb = false
geojson = false
preview_png = false
derived_cell_m = 1.0
[shadow]
timezone = "UTC"
cell_m = 1.0
bbox = [$W.0, $S.0, $E.0, $N.0]
step_min = 1.0
days = ["$DAY"]
EOF
  "$TWIN" run "$WORK/dsm.toml" --out "$WORK/out" > "$WORK/logs/twin_first.out" 2>&1
  for t in 1 2; do
    for r in $(seq 1 "$TWIN_REPS"); do
      o=$WORK/out_t${t}_r$r
      # SUMMARY: timed puts summary.json's timing_s.shadow into the TSV's shadow_s column
      SUMMARY=$o/summary.json RAYON_NUM_THREADS=$t timed "twin_t${t}_r$r$TAG" "$t" "$TWIN" run "$WORK/dsm.toml" --out "$o"
      rm -rf "$o"
    done
  done
fi

if has grass; then
  gdal_translate -q -projwin $W $N $E $S "$WORK/out/dsm.tif" "$WORK/dsm_crop.tif"
  gdal_translate -q -projwin $W $N $E $S "$WORK/out/building_mask.tif" "$WORK/building_mask_crop.tif"
  rm -rf "$WORK/grassdata"; mkdir -p "$WORK/grassdata"
  grass -c "$WORK/dsm_crop.tif" -e "$LOC"
  G r.in.gdal input="$WORK/dsm_crop.tif" output=dsm --quiet
  G g.region raster=dsm -p > "$WORK/logs/region.txt"
  G g.version -rge > "$WORK/logs/grass.version"
fi

sname() { echo "$1" | tr -d '.'; }   # 0.0166667 -> 00166667 (GRASS map names: no '.')

if has rsun; then
  for st in $RSUN_STEPS; do
    for p in $NPROCS; do
      n=rsun_s$(sname "$st")_p$p$TAG
      timed "$n" "$p" grass r.sun elevation=dsm day=$DOY step="$st" insol_time="$n" nprocs="$p" --overwrite
    done
  done
fi

if has horizon; then
  # default output: radians, counter-clockwise from east, maps hor_000 ... hor_350 (what r.sun wants)
  timed "horizon_full$TAG" 1 grass r.horizon elevation=dsm step=10 output=hor --overwrite
  for md in $HOR_MAXDIST; do
    timed "horizon_md$md$TAG" 1 grass r.horizon elevation=dsm step=10 maxdistance="$md" output="hormd$md" --overwrite
  done
fi

if has rsunhor; then
  for st in $RSUN_STEPS; do
    for p in $NPROCS; do
      n=rsunhor_s$(sname "$st")_p$p$TAG
      timed "$n" "$p" grass r.sun elevation=dsm day=$DOY step="$st" horizon_basename=hor horizon_step=10 \
        insol_time="$n" nprocs="$p" --overwrite
    done
  done
fi

if has horclamp; then
  expr=""
  for a in $(seq 0 10 350); do aa=$(printf %03d "$a"); expr+="horc_$aa = max(hor_$aa, 0.0)
"; done
  printf '%s' "$expr" > "$WORK/horclamp.mapcalc"
  timed "horclamp$TAG" 1 grass r.mapcalc file="$WORK/horclamp.mapcalc" --overwrite
fi

if has rsunhorc; then
  for st in $RSUN_STEPS; do
    for p in $NPROCS; do
      n=rsunhorc_s$(sname "$st")_p$p$TAG
      timed "$n" "$p" grass r.sun elevation=dsm day=$DOY step="$st" horizon_basename=horc horizon_step=10 \
        insol_time="$n" nprocs="$p" --overwrite
    done
  done
fi

if has rsunfill; then
  G r.mapcalc expression="dsmf = if(isnull(dsm), -100.0, dsm)" --overwrite --quiet
  for st in $FILL_STEPS; do
    for p in $FILL_NPROCS; do
      n=rsunfill_s$(sname "$st")_p$p$TAG
      timed "$n" "$p" grass r.sun elevation=dsmf day=$DOY step="$st" insol_time="$n" nprocs="$p" --overwrite
    done
  done
fi

if has twinvar; then
  for v in step3 norefr; do
    sed -e '/^\[scenario\]/,/^name/ s/^name = .*/name = "peer-dsm-'$v'"/' "$WORK/dsm.toml" > "$WORK/dsm_$v.toml"
    case $v in
      step3) sed -i 's/^step_min = .*/step_min = 3.0/' "$WORK/dsm_$v.toml" ;;
      norefr) printf '[shadow.site]\npressure_hpa = 1.0\n' >> "$WORK/dsm_$v.toml" ;;
    esac
    "$TWIN" run "$WORK/dsm_$v.toml" --out "$WORK/out_var_$v" > "$WORK/logs/twinvar_$v.out" 2>&1
  done
fi

if has compare; then
  mkdir -p "$WORK/tif"
  for m in $(G g.list type=raster pattern='rsun*' 2>/dev/null); do
    G r.out.gdal -c input="$m" output="$WORK/tif/$m.tif" format=GTiff type=Float32 \
      createopt=COMPRESS=DEFLATE --overwrite --quiet
    G r.info -h "$m" > "$WORK/logs/$m.history" 2>&1
  done
  "$PY" "$HERE/compare.py" --twin "$WORK/out/sun_hours_$DAY.tif" --summary "$WORK/out/summary.json" \
    --dsm "$WORK/dsm_crop.tif" --mask "$WORK/building_mask_crop.tif" \
    --json "$WORK/compare.json" "$WORK"/tif/rsun*.tif | tee "$WORK/compare.md"
  # the urban-twin variants (twinvar) against the same r.sun maps
  for v in step3 norefr; do
    [ -f "$WORK/out_var_$v/sun_hours_$DAY.tif" ] || continue
    "$PY" "$HERE/compare.py" --twin "$WORK/out_var_$v/sun_hours_$DAY.tif" --summary "$WORK/out_var_$v/summary.json" \
      --dsm "$WORK/dsm_crop.tif" --mask "$WORK/building_mask_crop.tif" \
      --json "$WORK/compare_$v.json" "$WORK"/tif/rsun*.tif > "$WORK/compare_$v.md"
  done
fi
log "done: $TSV"
