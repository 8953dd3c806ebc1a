#!/usr/bin/env bash
# The libmicrohttpd the project links (third_party/libmicrohttpd/README.md): Debian 12's
# source package, Debian's patches, then third_party/libmicrohttpd/*.patch, built as a static
# library under DEPS_DIR/libmicrohttpd/<key>/{include,lib}. The key hashes this script, the
# project's patches and the Debian version, so a change to any of them builds a new one (and
# removes the others); an existing build is reused. Safe to run concurrently (a lock).
#
#   scripts/build-mhd.sh        build it unless present
#   scripts/build-mhd.sh dir    print the install directory, build nothing (the Makefile's
#                               MHD_DIR)
#
# Env: DEPS_DIR (<repo>/.deps), MHD_JOBS (2: make -j for the library).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS_DIR="${DEPS_DIR:-$ROOT/.deps}"
case "$DEPS_DIR" in /*) ;; *) DEPS_DIR="$ROOT/$DEPS_DIR" ;; esac
PATCH_DIR="$ROOT/third_party/libmicrohttpd"
MHD_JOBS="${MHD_JOBS:-2}"

# pinned: bookworm's source package; its files are checked against these sums
MHD_DEB_VERSION="0.9.75-6"
MHD_UPSTREAM="0.9.75"
MHD_ORIG_SHA256="796e7e217a4802679fcac667a4e98501c53185dcf50ca0583870e84192620131"
MHD_DEBIAN_SHA256="566c247bfbf67e20858705ae695f58db747d50ed8512f2bc46a28bef9086e5af"
DEBIAN_SOURCES="deb-src http://deb.debian.org/debian bookworm main"

# what the services use (epoll, internal threads, messages for MHD_USE_ERROR_LOG); the rest off
CONFIGURE_FLAGS=(--enable-static --disable-shared --with-pic --disable-https --disable-doc
    --disable-examples --disable-curl --disable-nls --disable-postprocessor --disable-bauth --disable-dauth
    --disable-httpupgrade --enable-epoll=yes --enable-messages)

BASE="$DEPS_DIR/libmicrohttpd"
SRC_CACHE="$BASE/src"
ORIG_TAR="libmicrohttpd_$MHD_UPSTREAM.orig.tar.xz"
DEBIAN_TAR="libmicrohttpd_$MHD_DEB_VERSION.debian.tar.xz"

log() { printf 'build-mhd: %s\n' "$*" >&2; }

die() {
    log "error: $*"
    exit 1
}

patches() { find "$PATCH_DIR" -maxdepth 1 -name '*.patch' -type f | LC_ALL=C sort; }

key() {
    local p
    {
        echo "$MHD_DEB_VERSION"
        cat "${BASH_SOURCE[0]}"
        while read -r p; do
            echo "${p##*/}"
            cat "$p"
        done < <(patches)
    } | sha256sum | cut -c1-12
}

sum_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# fetch_sources: the two tarballs into SRC_CACHE, through apt with its own sources list,
# lists and cache (nothing of the system's apt configuration or state changes)
fetch_sources() {
    local apt tmp
    if sum_ok "$SRC_CACHE/$ORIG_TAR" "$MHD_ORIG_SHA256" &&
        sum_ok "$SRC_CACHE/$DEBIAN_TAR" "$MHD_DEBIAN_SHA256"; then
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get missing: cannot fetch Debian's source"
    log "fetching Debian's libmicrohttpd $MHD_DEB_VERSION source"
    tmp="$(mktemp -d)"
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/dl"
    echo "$DEBIAN_SOURCES" >"$tmp/sources.list"
    apt=(apt-get -q -o "Dir::Etc::sourcelist=$tmp/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
        -o APT::Get::List-Cleanup=0)
    # as root apt downloads as _apt: let it write there
    if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
        chown -R _apt "$tmp/lists" "$tmp/dl"
    fi
    if ! "${apt[@]}" update </dev/null >"$tmp/apt.log" 2>&1 ||
        ! (cd "$tmp/dl" && "${apt[@]}" source --download-only \
            "libmicrohttpd=$MHD_DEB_VERSION" </dev/null >>"$tmp/apt.log" 2>&1); then
        cat "$tmp/apt.log" >&2
        rm -rf "$tmp"
        die "apt-get source libmicrohttpd=$MHD_DEB_VERSION failed (no longer in bookworm? then" \
            "update MHD_DEB_VERSION and the sums in ${0##*/})"
    fi
    sum_ok "$tmp/dl/$ORIG_TAR" "$MHD_ORIG_SHA256" || die "$ORIG_TAR: unexpected SHA-256"
    sum_ok "$tmp/dl/$DEBIAN_TAR" "$MHD_DEBIAN_SHA256" || die "$DEBIAN_TAR: unexpected SHA-256"
    mkdir -p "$SRC_CACHE"
    cp "$tmp/dl/$ORIG_TAR" "$tmp/dl/$DEBIAN_TAR" "$SRC_CACHE/"
    rm -rf "$tmp"
}

# apply_series DIR: Debian's quilt series in order (a line: patch name, maybe -pN)
apply_series() {
    local dir="$1" name opt
    [ -f "$dir/debian/patches/series" ] || return 0
    while read -r name opt; do
        case "$name" in '' | '#'*) continue ;; esac
        patch -d "$dir" -s -N "${opt:--p1}" <"$dir/debian/patches/$name" ||
            die "Debian's patch $name does not apply"
    done <"$dir/debian/patches/series"
}

build() {
    local dest="$1" work src p cflags
    work="$(mktemp -d "$BASE/build.XXXXXX")"
    src="$work/libmicrohttpd-$MHD_UPSTREAM"
    tar -xJf "$SRC_CACHE/$ORIG_TAR" -C "$work"
    tar -xJf "$SRC_CACHE/$DEBIAN_TAR" -C "$src"
    apply_series "$src"
    while read -r p; do
        patch -d "$src" -s -N -p1 <"$p" || die "${p#"$ROOT"/} does not apply"
    done < <(patches)
    # Debian's hardening (debian/rules: hardening=+all), when dpkg-buildflags is there
    cflags="-O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2"
    if command -v dpkg-buildflags >/dev/null 2>&1; then
        cflags="$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS)"
        cflags+=" $(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)"
    fi
    log "building libmicrohttpd $MHD_DEB_VERSION + $(patches | sed 's|.*/||' | tr '\n' ' ')into $dest"
    if ! (cd "$src" && ./configure --prefix="$work/install" "${CONFIGURE_FLAGS[@]}" \
        CFLAGS="$cflags" && make -j"$MHD_JOBS" -C src/microhttpd &&
        make -C src/microhttpd install && make -C src/include install) \
        </dev/null >"$work/build.log" 2>&1; then
        tail -n 60 "$work/build.log" >&2
        die "the build failed (log: $work/build.log)"
    fi
    mkdir -p "$work/out/include" "$work/out/lib"
    cp "$work/install/include/microhttpd.h" "$work/out/include/"
    cp "$work/install/lib/libmicrohttpd.a" "$work/out/lib/"
    cp "$work/build.log" "$work/out/build.log"
    rm -rf "$dest"
    mv "$work/out" "$dest"
    rm -rf "$work"
}

main() {
    local dest d
    dest="$BASE/$(key)"
    case "${1:-}" in
    dir)
        echo "$dest"
        return 0
        ;;
    '') ;;
    *)
        echo "usage: $0 [dir]" >&2
        exit 2
        ;;
    esac
    [ -f "$dest/lib/libmicrohttpd.a" ] && return 0
    mkdir -p "$BASE"
    exec 9>"$BASE/.lock"
    flock 9
    [ -f "$dest/lib/libmicrohttpd.a" ] && return 0 # built meanwhile
    fetch_sources
    build "$dest"
    for d in "$BASE"/*/; do
        d="${d%/}"
        case "${d##*/}" in src | "${dest##*/}") ;; *) rm -rf "$d" ;; esac
    done
    log "libmicrohttpd ready: $dest"
}

main "$@"
