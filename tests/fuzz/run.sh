#!/bin/sh
# Fuzzes the parsers that read hostile input with libFuzzer (clang from Debian).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     default: 60 seconds each, all four targets
#
# Targets: topology (rdsbk_topology_parse), xml (rdsbk_query_parse_reply, rdsbk_xml_parse),
# json (rdsbk_aws_error_parse, rdsbk_json_tags_parse), state (rdsbk_state_parse).
# The library is built with clang, -fsanitize=fuzzer-no-link,address,undefined, by the project's
# own CMake in $RDSBK_FUZZ_BUILD (default /tmp/rdsbk-fuzz-build); each target then runs for
# SECONDS (with tests/fuzz/<target>.dict when there is one), starting from
# tests/fuzz/corpus/<target> (read only) and growing a working corpus in
# $RDSBK_FUZZ_BUILD/work/<target>. Crashes, leaks and timeouts are written to
# $RDSBK_FUZZ_BUILD/artifacts/<target>/; the script exits 1 if any target found one. A new input
# worth keeping (a regression) is copied into tests/fuzz/corpus/<target>/ by hand.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-topology xml json state}
build=${RDSBK_FUZZ_BUILD:-/tmp/rdsbk-fuzz-build}
jobs=${RDSBK_FUZZ_JOBS:-2}

command -v clang >/dev/null || { echo "run.sh: clang is not installed (apt-get install clang)"; exit 1; }

flags="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=None -DRDSBK_TESTS=OFF \
    -DCMAKE_C_FLAGS="$flags -fsanitize=fuzzer-no-link" >"$build.cmake.log" 2>&1 ||
    { cat "$build.cmake.log"; exit 1; }
cmake --build "$build" -j"$jobs" --target rdsbk >"$build.build.log" 2>&1 ||
    { tail -40 "$build.build.log"; exit 1; }
libs=$(pkg-config --libs libcurl libcrypto yaml-0.1 libcjson libxml-2.0 zlib)
cflags=$(pkg-config --cflags libcjson libxml-2.0)

status=0
for t in $targets; do
    bin="$build/fuzz_$t"
    # shellcheck disable=SC2086
    clang $flags -fsanitize=fuzzer -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -I"$root/include" -I"$root/src" $cflags "$root/tests/fuzz/fuzz_$t.c" \
        "$build/librdsbk.a" $libs -lpthread -lm -o "$bin"
    mkdir -p "$build/work/$t" "$build/artifacts/$t"
    echo "== $t: fuzzing for $seconds s"
    log="$build/fuzz_$t.log"
    dict=
    [ -f "$root/tests/fuzz/$t.dict" ] && dict="-dict=$root/tests/fuzz/$t.dict"
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 $dict \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" \
        "$build/work/$t" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log and $build/artifacts/$t/)"
        status=1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corpus=$(ls "$build/work/$t" | wc -l)
    echo "$t: $result; ${runs:-?} executions in $seconds s (${secs:-?}/s), coverage ${cov:-?} edges, working corpus $corpus inputs"
done
exit $status
