#!/usr/bin/env bash
# Installs everything the build, the local stack and the tests need on a Debian 12
# machine. Idempotent and fast when all is present:
#   - Debian packages (headers, MariaDB, Redis, kcat, clang), via apt only when
#     one is missing;
#   - a JDK 17+ and Maven when absent;
#   - the Kafka 3.9.1 broker jars from Maven Central into .deps/kafka/libs;
#   - the Swagger UI static files (npm package swagger-ui-dist) into .deps/swagger-ui;
#   - libmicrohttpd, Debian's source with the project's patches, static, into
#     .deps/libmicrohttpd (scripts/build-mhd.sh, third_party/libmicrohttpd/README.md).
# `scripts/install-deps.sh browser` installs only Chromium, for the console's
# end-to-end test (make e2e runs it). With the argument `checks`, only the
# tools of make check / analyze / coverage (valgrind, cppcheck, clang's
# scan-build, lcov): what `make deps-checks` does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS_DIR="${DEPS_DIR:-$ROOT/.deps}"
SWAGGER_UI_VERSION="5.35.0"   # pinned: what `npm pack swagger-ui-dist@5` gave
KAFKA_VERSION="3.9.1"         # must match scripts/kafka/pom.xml

APT_PACKAGES=(pkg-config librdkafka-dev patch xz-utils default-libmysqlclient-dev
    libjansson-dev libhiredis-dev libcurl4-openssl-dev libcmocka-dev mariadb-server
    mariadb-client redis-server kcat clang clang-format libclang-rt-14-dev
    busybox-static libjwt-dev)
# make profile counts each process's system calls
APT_PACKAGES+=(strace)
# `scripts/install-deps.sh browser`: only the console's end-to-end test
# (tests/e2e/test_console.py) needs a headless browser
BROWSER_PACKAGES=(chromium)
# make check (valgrind), make analyze (cppcheck, scan-build from clang-tools),
# make coverage (lcov; gcov comes with gcc)
CHECK_PACKAGES=(valgrind cppcheck clang-tools lcov)

log() { printf 'install-deps: %s\n' "$*"; }

# run as root directly, otherwise through sudo when there is one
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "$@" </dev/null
}

install_apt_packages() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
    # the Debian packages start their own daemons on the default ports on some
    # images; our scripts run private instances, so stop and disable the system ones
    # only when we just installed them (never touch a server someone else runs)
    local p2
    for p2 in "${missing[@]}"; do
        case "$p2" in
        mariadb-server) stop_system_service mariadb ;;
        redis-server) stop_system_service redis-server ;;
        esac
    done
}

stop_system_service() {
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        as_root systemctl disable --now "$1" >/dev/null 2>&1 || true
    elif command -v service >/dev/null 2>&1; then
        as_root service "$1" stop >/dev/null 2>&1 || true
    fi
}

java_major() {
    # `java -version` prints e.g. openjdk version "17.0.15" 2025-04-15 (or "1.8.0_x")
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\(\.\([0-9]*\)\)\{0,1\}.*/\1 \3/p' |
        head -n1 | awk '{ print ($1 == 1) ? $2 : $1 }'
}

install_java_maven() {
    local major=0
    if command -v java >/dev/null 2>&1; then
        major="$(java_major)"
        major="${major:-0}"
    fi
    if [ "$major" -lt 17 ]; then
        apt_install openjdk-17-jdk-headless
    fi
    if ! command -v mvn >/dev/null 2>&1; then
        apt_install maven
    fi
}

install_kafka() {
    local libs="$DEPS_DIR/kafka/libs"
    if [ -f "$libs/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$DEPS_DIR/kafka/.complete" ]; then
        return 0
    fi
    log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $libs"
    rm -rf "$libs" "$DEPS_DIR/kafka/.complete"
    mkdir -p "$libs"
    # maven's quiet mode still prints colour resets: keep its output for failures
    if ! mvn -q -B -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" \
        dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime \
        </dev/null >"$DEPS_DIR/kafka/mvn.log" 2>&1; then
        cat "$DEPS_DIR/kafka/mvn.log" >&2
        log "maven failed to fetch the Kafka jars"
        return 1
    fi
    touch "$DEPS_DIR/kafka/.complete"
}

install_swagger_ui() {
    local dest="$DEPS_DIR/swagger-ui" stamp tmp f
    stamp="$dest/.version"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$SWAGGER_UI_VERSION" ]; then
        return 0
    fi
    log "fetching swagger-ui-dist@$SWAGGER_UI_VERSION into $dest"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "swagger-ui-dist@$SWAGGER_UI_VERSION" </dev/null >/dev/null)
    tar -xzf "$tmp"/swagger-ui-dist-*.tgz -C "$tmp"
    rm -rf "$dest"
    mkdir -p "$dest"
    for f in swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js \
        favicon-16x16.png favicon-32x32.png; do
        cp "$tmp/package/$f" "$dest/$f"
    done
    cp "$tmp/package/LICENSE" "$dest/LICENSE" 2>/dev/null || true
    printf '%s\n' "$SWAGGER_UI_VERSION" >"$stamp"
    rm -rf "$tmp"
}

main() {
    if [ "${1:-}" = browser ]; then
        install_apt_packages "${BROWSER_PACKAGES[@]}"
        log "browser present"
        return 0
    fi
    if [ "${1:-}" = checks ]; then
        install_apt_packages "${CHECK_PACKAGES[@]}"
        log "the checks' tools present"
        return 0
    fi
    install_apt_packages "${APT_PACKAGES[@]}" "${CHECK_PACKAGES[@]}"
    install_java_maven
    install_kafka
    install_swagger_ui
    DEPS_DIR="$DEPS_DIR" "$ROOT/scripts/build-mhd.sh"
    log "all dependencies present"
}

main "$@"
