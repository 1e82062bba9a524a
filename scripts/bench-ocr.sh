#!/usr/bin/env bash
# Benchmark: OCR of a generated 50-page scanned book (300 dpi, black and white, no text layer) by
# `recital inspect` (release build) on all cores and pinned to one, beside a reference run in the
# same command: poppler's pdftoppm drawing every page and the tesseract command reading them one by
# one, as a person would script it. Prints pages per second, peak memory and the ratios.
# Usage: scripts/bench-ocr.sh [pages]
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-50}
./scripts/install-deps.sh
for tool in time poppler-utils tesseract-ocr; do
  dpkg-query -W -f='${Status}' "$tool" 2>/dev/null | grep -q "install ok installed" || {
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >&2; }
done
swift build -c release --scratch-path .build-release --product recital >&2
bin=.build-release/release/recital
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/make-fixtures.py --scan-book "$work/scan.pdf" "$pages" >&2
cores=$(nproc)

# Wall seconds and peak RSS (MB) of one run.
measure() {
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall kb <"$work/t"
  echo "$wall $((kb / 1024))"
}

reference() {
  pdftoppm -r 300 -gray "$work/scan.pdf" "$work/page"
  for page in "$work"/page-*.pgm; do tesseract "$page" "$page" --dpi 300 >/dev/null 2>&1; done
}
export -f reference
export work

read -r all_wall all_rss < <(measure "$bin" inspect --json "$work/scan.pdf")
grep -q "pages 1–$pages read with OCR" "$work/out" || { echo "recital did not OCR every page" >&2; exit 1; }
read -r one_wall one_rss < <(measure taskset -c 0 "$bin" inspect --json "$work/scan.pdf")
read -r ref_wall ref_rss < <(measure bash -c reference)

rate() { awk -v p="$pages" -v w="$1" 'BEGIN { printf "%.2f", p / w }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
echo "| run | wall | pages/s | peak RSS | pages/s vs reference |"
echo "|---|---|---|---|---|"
echo "| recital inspect, $cores cores | ${all_wall} s | $(rate "$all_wall") | ${all_rss} MB | $(ratio "$all_wall" "$ref_wall")× |"
echo "| recital inspect, 1 core (taskset) | ${one_wall} s | $(rate "$one_wall") | ${one_rss} MB | $(ratio "$one_wall" "$ref_wall")× |"
echo "| reference: pdftoppm + tesseract per page | ${ref_wall} s | $(rate "$ref_wall") | ${ref_rss} MB (largest step) | 1.00× |"
