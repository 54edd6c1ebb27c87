# Shared by scripts/demo and scripts/test: install what is missing, configure, build.
# Sourced, not run. Idempotent: with everything present it only runs an incremental build.

RDSBK_ROOT=$(cd "$(dirname "$0")/.." && pwd)

# Debian packages the build, the tests and the demo need.
RDSBK_PACKAGES="build-essential cmake pkg-config git libcurl4-openssl-dev libssl-dev libyaml-dev
libcjson-dev libxml2-dev zlib1g-dev libcmocka-dev python3 python3-boto3 python3-botocore python3-yaml
python3-jsonschema
clang-format unzip ca-certificates curl man-db groff-base zsh dpkg-dev file"

rdsbk_install_missing() {
    missing=""
    for p in $RDSBK_PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $p"
        fi
    done
    [ -z "$missing" ] && return 0
    echo "==> installing Debian packages:$missing"
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# rdsbk_build DIR [cmake options...]
rdsbk_build() {
    dir=$1
    shift
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        cmake -S "$RDSBK_ROOT" -B "$dir" "$@" >/dev/null
    fi
    cmake --build "$dir" --parallel "$(nproc)" -- --no-print-directory >/dev/null ||
        cmake --build "$dir" --parallel 1
}
