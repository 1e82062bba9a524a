#!/usr/bin/env bash
# Benchmark: wall time and peak memory of `recital inspect --json` (release build) on the largest
# corpus books and a generated 5 MB EPUB, each beside a reference run on the same file in the same
# command: `unzip -p` (just inflating the EPUB) or `pdftotext` (poppler's own text extraction).
# Prints a Markdown table. Usage: scripts/bench-inspect.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
./scripts/install-deps.sh
for tool in time unzip poppler-utils; do
  dpkg-query -W -f='${Status}' "$tool" 2>/dev/null | grep -q "install ok installed" || {
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >&2; }
done
swift build -c release --product recital >&2
bin=.build/release/recital
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/make-fixtures.py --large "$work/generated-5mb.epub" 5 >&2

# Median wall seconds and maximum RSS (MB) of a command over $runs runs.
measure() {
  local walls=() rss=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1
    read -r wall kb <"$work/t"
    walls+=("$wall")
    (( kb > rss )) && rss=$kb
  done
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$median $((rss / 1024))"
}

corpus=../shared/corpus
books=("$corpus/moby-dick-epub3-idpf.epub" "$corpus/geometrie-und-topologie-de.pdf" "$work/generated-5mb.epub")
echo "| book | size | chapters | characters | inspect wall | inspect peak RSS | reference | reference wall | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for book in "${books[@]}"; do
  [ -f "$book" ] || continue
  size=$(du -h "$book" | cut -f1)
  read -r chapters characters < <("$bin" inspect --json "$book" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["chapters"]), sum(c["characters"] for c in d["chapters"]))')
  read -r wall rss < <(measure "$bin" inspect --json "$book")
  case "$book" in
    *.pdf) ref="pdftotext"; read -r rwall _ < <(measure pdftotext "$book" "$work/out.txt") ;;
    *) ref="unzip -p"; read -r rwall _ < <(measure unzip -p "$book") ;;
  esac
  ratio=$(python3 -c "print(f'{$wall / max($rwall, 0.005):.1f}x')")
  echo "| $(basename "$book") | $size | $chapters | $characters | ${wall} s | ${rss} MB | $ref | ${rwall} s | $ratio |"
done
