#!/bin/sh
# Every tests/topologies/bad/NAME.yaml must make `validate` exit 1 and print exactly
# NAME.expected on stderr (nothing on stdout); a crash or any other status fails.
# usage: check-bad.sh RDSBK_PROVISION_BINARY
set -u
# Undefined behaviour must fail the case, not just print.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
bin=$1
cd "$(dirname "$0")/bad" || exit 1
failed=0
total=0
for yaml in *.yaml; do
    name=${yaml%.yaml}
    total=$((total + 1))
    out=$("$bin" validate -f "$yaml" 2>"/tmp/rdsbk-bad.$$" </dev/null)
    rc=$?
    if [ "$rc" -ne 1 ]; then
        echo "FAIL $name: exit status $rc, expected 1"
        cat "/tmp/rdsbk-bad.$$"
        failed=$((failed + 1))
    elif [ -n "$out" ]; then
        echo "FAIL $name: unexpected standard output: $out"
        failed=$((failed + 1))
    elif ! diff -u "$name.expected" "/tmp/rdsbk-bad.$$"; then
        echo "FAIL $name: messages differ (above: - expected, + actual)"
        failed=$((failed + 1))
    fi
done
rm -f "/tmp/rdsbk-bad.$$"
echo "bad topologies: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
