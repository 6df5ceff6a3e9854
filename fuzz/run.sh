#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (libFuzzer -max_total_time), each from a
# temporary copy of its seed corpus so corpus/ keeps only the committed seeds. Exits non-zero
# if any target crashed, failed an invariant or hung, printing the reproducer's path.
#
#   fuzz/run.sh SECONDS [TARGET...]     (all targets when none is named)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). cargo-fuzz passes nightly-only
# flags (-Zsanitizer=address, sanitizer coverage); RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them, so no nightly is needed.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "SECONDS must be a positive integer" >&2; exit 2; }
export RUSTC_BOOTSTRAP=1

targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build

scratch=$(mktemp -d "${TMPDIR:-/tmp}/statsfs-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

failed=()
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    cp -R "corpus/$t/." "$scratch/$t/"
    args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
    [ -f "dict/$t.dict" ] && args+=(-dict="dict/$t.dict")
    echo "=== $t: ${seconds}s from $(find "corpus/$t" -type f | wc -l) seeds"
    log="$scratch/$t.log"
    if cargo fuzz run "$t" "$scratch/$t" -- "${args[@]}" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1 || true)
        echo "    ok: ${runs:-?} executions, ${rate:-?}/s; ${cov}"
    else
        tail -n 60 "$log"
        reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        echo "!!! $t FAILED; reproducer: $(realpath -e "${reproducer:-none}" 2>/dev/null || echo "${reproducer:-none (see log above)}")"
        echo "    replay: RUSTC_BOOTSTRAP=1 cargo fuzz run $t ${reproducer:-<file>}   (from fuzz/)"
        failed+=("$t")
    fi
done

if ((${#failed[@]})); then
    echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a failure"
