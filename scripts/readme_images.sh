#!/usr/bin/env bash
# Regenerates the images the README shows, into docs/images/:
#   compare_backlog.png, compare_response.png  `gridtwin compare` of the baseline week
#                                               against scenes/whatif_people.toml
#   report_backlog.png, report_inflow.png       `gridtwin report` of the baseline's first
#                                               replication
#   viewer_overview.png                         a viewer still of scenes/demo.toml
# Every run is seeded, so the same sources give the same pictures.
#
# Usage: scripts/readme_images.sh [--charts-only]
#   --charts-only      skip the viewer stills (the viewer builds Bevy: minutes the first time)
# Environment:
#   GRIDTWIN=PATH      a built gridtwin binary to use (default: cargo run --release)
#   VIEWER=PATH        a built gridtwin-viewer binary (default: cargo run --release)
#   WORK=DIR           where the simulation runs go (default: target/readme-images)
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=docs/images
WORK=${WORK:-target/readme-images}
charts_only=0
for arg in "$@"; do
    case "$arg" in
    --charts-only) charts_only=1 ;;
    *)
        echo "usage: $0 [--charts-only]" >&2
        exit 2
        ;;
    esac
done

gridtwin() {
    if [ -n "${GRIDTWIN:-}" ]; then
        "$GRIDTWIN" "$@"
    else
        cargo run --release -q -p gridtwin-cli -- "$@"
    fi
}
viewer() {
    if [ -n "${VIEWER:-}" ]; then
        "$VIEWER" "$@"
    else
        cargo run --release -q -p gridtwin-viewer -- "$@"
    fi
}

mkdir -p "$OUT" "$WORK"

# The README's comparison: people as resources against the baseline week, 10 paired
# replications (the same seed: the same incidents arrive in both).
gridtwin simulate scenes/baseline.toml --replications 10 --seed 1 --out "$WORK/sim/baseline" >/dev/null
gridtwin simulate scenes/whatif_people.toml --replications 10 --seed 1 --out "$WORK/sim/people" >/dev/null
gridtwin compare "$WORK/sim/baseline" "$WORK/sim/people" --out "$WORK/compare" >/dev/null
gridtwin report "$WORK/sim/baseline/rep_000/timeline.parquet" --out "$WORK/report" >/dev/null

cp "$WORK/compare/backlog.png" "$OUT/compare_backlog.png"
cp "$WORK/compare/response.png" "$OUT/compare_response.png"
cp "$WORK/report/backlog.png" "$OUT/report_backlog.png"
cp "$WORK/report/inflow.png" "$OUT/report_inflow.png"

if [ "$charts_only" = 0 ]; then
    # headless stills: no window, no display needed
    viewer --scene scenes/demo.toml --screenshot "$OUT/viewer_overview.png" --at 10:30 --size 1280x720
fi

echo "wrote $(ls "$OUT" | wc -l) images to $OUT/"
