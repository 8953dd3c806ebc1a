#!/usr/bin/env bash
# The container images of the system (k8s/images/README.md): the project's images, FROM scratch
# with each binary and exactly the shared libraries ldd resolves for it, and the local stand-ins
# for apache/kafka, mysql and redis. Nothing is pulled or downloaded: each image's root
# filesystem is staged here under build/images/<name>/ from the host's files, then built with
# only COPY steps (k8s/images/<name>/Containerfile).
#
#   scripts/images.sh [build|list|sizes] [NAME...]
#     build  stage and build the images (all, or the NAMEs), then print and write the sizes
#     list   the image references, one per line
#     sizes  the table of the built images and their sizes (build/images/sizes.tsv)
#
# Env: CONTAINER_ENGINE (podman, else docker), IMAGE_TAG (0.1.0, the project images' tag),
# IMAGE_PREFIX (localhost/saga-orders), BIN_DIR (build/bin: the binaries, built by `make`),
# DEPS_DIR (.deps: Kafka's jars and Swagger UI, from scripts/install-deps.sh), IMAGE_SOURCE
# (the org.opencontainers.image.source label; default the git remote).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ -z "${CONTAINER_ENGINE:-}" ]; then
    if command -v podman >/dev/null 2>&1; then CONTAINER_ENGINE=podman; else CONTAINER_ENGINE=docker; fi
fi
IMAGE_TAG="${IMAGE_TAG:-0.1.0}"
IMAGE_PREFIX="${IMAGE_PREFIX:-localhost/saga-orders}"
BIN_DIR="${BIN_DIR:-build/bin}"
DEPS_DIR="${DEPS_DIR:-.deps}"
IMAGE_SOURCE="${IMAGE_SOURCE:-$(git config --get remote.origin.url 2>/dev/null || echo saga-orders)}"
OUT="$ROOT/build/images"
SRC="$ROOT/k8s/images"

PROJECT_IMAGES=(order-service inventory-service payment-service notification-service sidecar
    gateway-sim saga-console loadgen chaos)
INFRA_IMAGES=(kafka mariadb redis)
ALL_IMAGES=("${PROJECT_IMAGES[@]}" "${INFRA_IMAGES[@]}")

# the libmariadb client plugins (caching_sha2_password, ...), dlopened at connect time
MARIADB_PLUGIN_DIR=/usr/lib/x86_64-linux-gnu/libmariadb3/plugin
# the modules Kafka's jars use (jdeps over .deps/kafka/libs), plus the ones found only at
# run time (EC ciphers, DNS, JMX agent, Kerberos login modules, zip file system)
JRE_MODULES=java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management
JRE_MODULES+=,java.management.rmi,java.naming,java.rmi,java.scripting,java.security.jgss
JRE_MODULES+=,java.security.sasl,java.sql,java.xml,jdk.crypto.ec,jdk.management
JRE_MODULES+=,jdk.management.agent,jdk.naming.dns,jdk.security.auth,jdk.unsupported,jdk.zipfs
KAFKA_TOOLS=(kafka-topics.sh kafka-consumer-groups.sh kafka-console-consumer.sh
    kafka-console-producer.sh kafka-broker-api-versions.sh kafka-metadata-quorum.sh kafka-storage.sh
    kafka-acls.sh kafka-configs.sh)

die() {
    printf '%s: error: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

note() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# image_ref NAME: the image's reference
image_ref() {
    case "$1" in
    kafka) echo "$IMAGE_PREFIX/kafka:3.9.1" ;;
    mariadb) echo "$IMAGE_PREFIX/mariadb:10.11" ;;
    redis) echo "$IMAGE_PREFIX/redis:7.0" ;;
    *) echo "$IMAGE_PREFIX/$1:$IMAGE_TAG" ;;
    esac
}

image_version() { local r; r="$(image_ref "$1")" && echo "${r##*:}"; }

# ---------------------------------------------------------------- staging helpers

# put SRC (symlinks resolved) at ROOTFS/DEST (default: SRC's own path), mode kept
put() {
    local rootfs="$1" src="$2" dest="${3:-$2}"
    mkdir -p "$rootfs$(dirname "$dest")"
    cp -L --preserve=mode "$src" "$rootfs$dest"
}

# put_libs ROOTFS FILE...: the shared libraries and the loader that ldd resolves for each
# FILE, at the paths ldd prints (the loader finds them there without an ld.so.cache)
put_libs() {
    local rootfs="$1" file lib out
    shift
    for file in "$@"; do
        out="$(ldd "$file")" || die "ldd $file failed"
        if grep -q 'not found' <<<"$out"; then
            die "$file: shared libraries not found on this machine: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
        fi
        while read -r lib; do
            case "$lib" in "$rootfs"/*) continue ;; esac # a library of the staged tree itself
            [ -e "$rootfs$lib" ] || put "$rootfs" "$lib"
        done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' <<<"$out")
    done
}

# put_bin ROOTFS SRC DEST: an executable, its debug sections stripped, and its libraries
put_bin() {
    local rootfs="$1" src="$2" dest="$3"
    mkdir -p "$rootfs$(dirname "$dest")"
    if command -v strip >/dev/null 2>&1; then
        strip --strip-debug -o "$rootfs$dest" "$src"
    else
        cp -L "$src" "$rootfs$dest"
    fi
    chmod 0755 "$rootfs$dest"
    put_libs "$rootfs" "$src"
}

# put_base ROOTFS USER UID HOME: /etc/passwd and /etc/group with root and USER, name
# resolution by /etc/hosts then DNS (the runtime mounts /etc/hosts and /etc/resolv.conf;
# glibc >= 2.34 has files and dns built in), and a world-writable /tmp
put_base() {
    local rootfs="$1" user="$2" uid="$3" home="$4"
    mkdir -p "$rootfs/etc" "$rootfs/tmp"
    chmod 1777 "$rootfs/tmp"
    printf 'root:x:0:0:root:/root:/sbin/nologin\n%s:x:%s:%s:%s:%s:/sbin/nologin\n' \
        "$user" "$uid" "$uid" "$user" "$home" >"$rootfs/etc/passwd"
    printf 'root:x:0:\n%s:x:%s:\n' "$user" "$uid" >"$rootfs/etc/group"
    printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n' \
        >"$rootfs/etc/nsswitch.conf"
}

# put_busybox ROOTFS: busybox-static as /bin/sh and every other applet at its usual path
put_busybox() {
    local rootfs="$1" applet
    put "$rootfs" /bin/busybox
    # Debian's busybox-static needs nothing; the `busybox` package's one needs libc
    if ldd /bin/busybox >/dev/null 2>&1; then put_libs "$rootfs" /bin/busybox; fi
    while read -r applet; do
        [ "$applet" = bin/busybox ] && continue
        mkdir -p "$rootfs/$(dirname "$applet")"
        ln -sf /bin/busybox "$rootfs/$applet"
    done < <(/bin/busybox --list-full)
}

need_busybox() {
    if ! /bin/busybox --list-full >/dev/null 2>&1; then
        die "/bin/busybox missing: apt-get install busybox-static (the $1 image's shell)"
    fi
}

need_bin() {
    [ -x "$BIN_DIR/$1" ] || die "$BIN_DIR/$1 missing: build it first (make)"
}

# new_context NAME: an empty build context build/images/NAME with rootfs/ and the
# Containerfile: k8s/images/NAME/Containerfile, or for the project's programs the one
# template k8s/images/program.Containerfile with the program's name and its env defaults
new_context() {
    local ctx="$OUT/$1" env
    rm -rf "$ctx"
    mkdir -p "$ctx/rootfs" "$ctx/empty"
    if [ -f "$SRC/$1/Containerfile" ]; then
        cp "$SRC/$1/Containerfile" "$ctx/Containerfile"
    else
        case "$1" in
        *-service)
            env="ENV MIGRATIONS_DIR=/app/migrations/${1%-service}"
            env+=" SVC_COMMON_MIGRATIONS_DIR=/app/migrations/common"
            env+=" OPENAPI_FILE=/app/openapi.json SWAGGER_UI_DIR=/app/swagger-ui"
            ;;
        gateway-sim) env="ENV OPENAPI_FILE=/app/openapi.json" ;;
        saga-console) env="ENV OPENAPI_FILE=/app/openapi.json CONSOLE_STATIC_DIR=/app/static" ;;
        chaos) env="ENV CHAOS_SCENARIO_DIR=/app/scenarios" ;;
        *) env="# (no environment defaults)" ;;
        esac
        sed -e "s|@NAME@|$1|g" -e "s|@ENV@|$env|" "$SRC/program.Containerfile" >"$ctx/Containerfile"
    fi
    echo "$ctx"
}

# ---------------------------------------------------------------- the images

stage_project() {
    local name="$1" ctx rootfs b svc bins=("$1")
    [ "$name" = loadgen ] && bins+=(seed)
    for b in "${bins[@]}"; do need_bin "$b"; done
    if [ "$name" = loadgen ]; then
        if [ -x "$BIN_DIR/saga-smoke" ]; then
            bins+=(saga-smoke)
        else
            note "warning: $BIN_DIR/saga-smoke missing: the loadgen image is built without it"
        fi
    fi
    ctx="$(new_context "$name")"
    rootfs="$ctx/rootfs"
    put_base "$rootfs" nonroot 65532 /home/nonroot
    mkdir -p "$rootfs/app"
    for b in "${bins[@]}"; do
        put_bin "$rootfs" "$BIN_DIR/$b" "/usr/local/bin/$b"
        if ldd "$BIN_DIR/$b" | grep -q 'libmariadb\.so'; then
            mkdir -p "$rootfs$MARIADB_PLUGIN_DIR"
            cp -L --preserve=mode "$MARIADB_PLUGIN_DIR"/*.so "$rootfs$MARIADB_PLUGIN_DIR/"
            put_libs "$rootfs" "$MARIADB_PLUGIN_DIR"/*.so
        fi
    done
    case "$name" in
    *-service)
        svc="${name%-service}"
        [ -f "$DEPS_DIR/swagger-ui/swagger-ui-bundle.js" ] ||
            die "$DEPS_DIR/swagger-ui missing: run scripts/install-deps.sh"
        mkdir -p "$rootfs/app/migrations" "$rootfs/app/swagger-ui"
        cp -r "services/$svc/migrations" "$rootfs/app/migrations/$svc"
        cp -r services/common/migrations "$rootfs/app/migrations/common"
        cp "services/$svc/openapi.json" "$rootfs/app/openapi.json"
        cp "$DEPS_DIR"/swagger-ui/* "$rootfs/app/swagger-ui/"
        ;;
    gateway-sim) cp services/gateway-sim/openapi.json "$rootfs/app/openapi.json" ;;
    saga-console)
        cp services/console/openapi.json "$rootfs/app/openapi.json"
        cp -r services/console/static "$rootfs/app/static"
        ;;
    chaos) cp -r chaos/scenarios "$rootfs/app/scenarios" ;;
    esac
}

# jre: a JRE of JRE_MODULES made by the host JDK's jlink, kept under build/images/.cache
# (made again when the modules or the JDK change)
jre() {
    local key dir
    command -v jlink >/dev/null 2>&1 || die "jlink missing: a JDK 17+ (scripts/install-deps.sh)"
    key="$( (echo "$JRE_MODULES" && jlink --version) | md5sum | cut -c1-12)"
    dir="$OUT/.cache/jre-$key"
    if [ ! -x "$dir/bin/java" ]; then
        note "jlink: a JRE for Kafka in $dir"
        rm -rf "$OUT"/.cache/jre-*
        mkdir -p "$OUT/.cache"
        jlink --add-modules "$JRE_MODULES" --strip-debug --no-man-pages --no-header-files \
            --compress=2 --output "$dir.tmp" >&2
        # the desktop natives: X11, fonts, sound, images, never loaded by a headless broker
        rm -f "$dir.tmp"/lib/{libawt_xawt,libjawt,libfontmanager,libjsound,libsplashscreen,libjavajpeg,liblcms}.so
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}

stage_kafka() {
    local ctx rootfs libs="$DEPS_DIR/kafka/libs" java_dir f tool
    [ -f "$libs/kafka_2.13-3.9.1.jar" ] || die "Kafka jars missing in $libs: run scripts/install-deps.sh"
    need_busybox kafka
    java_dir="$(jre)"
    ctx="$(new_context kafka)"
    rootfs="$ctx/rootfs"
    put_base "$rootfs" appuser 1000 /home/appuser
    put_busybox "$rootfs"
    mkdir -p "$rootfs/opt/java" "$rootfs/opt/kafka/bin" "$rootfs/etc/kafka/docker" "$ctx/config" \
        "$ctx/data"
    cp -a "$java_dir" "$rootfs/opt/java/openjdk"
    # the JRE's own libraries (libjvm.so: loaded by java before the others) are in the tree
    for f in "$rootfs/opt/java/openjdk/bin/java" "$rootfs"/opt/java/openjdk/lib/*.so \
        "$rootfs"/opt/java/openjdk/lib/server/*.so; do
        LD_LIBRARY_PATH="$rootfs/opt/java/openjdk/lib/server:$rootfs/opt/java/openjdk/lib" \
            put_libs "$rootfs" "$f"
    done
    cp -r "$libs" "$rootfs/opt/kafka/libs"
    cp "$SRC/kafka/run" "$rootfs/etc/kafka/docker/run"
    cp "$SRC/kafka/kafka-tool" "$rootfs/opt/kafka/bin/kafka-tool"
    for tool in "${KAFKA_TOOLS[@]}"; do ln -s kafka-tool "$rootfs/opt/kafka/bin/$tool"; done
    cp "$SRC/kafka/tools-log4j.properties" "$rootfs/opt/kafka/tools-log4j.properties"
}

stage_mariadb() {
    local ctx rootfs version
    command -v mariadbd >/dev/null 2>&1 || die "mariadbd missing: run scripts/install-deps.sh"
    version="$(mariadbd --version)"
    [[ "$version" == *" 10.11."* ]] || note "warning: the mariadb image is tagged 10.11 but holds $version"
    need_busybox mariadb
    ctx="$(new_context mariadb)"
    rootfs="$ctx/rootfs"
    put_base "$rootfs" mysql 999 /var/lib/mysql
    put_busybox "$rootfs"
    put_bin "$rootfs" "$(command -v mariadbd)" /usr/sbin/mariadbd
    put_bin "$rootfs" "$(command -v mariadb)" /usr/bin/mariadb
    ln -s mariadb "$rootfs/usr/bin/mysql"
    ln -s /usr/sbin/mariadbd "$rootfs/usr/sbin/mysqld"
    mkdir -p "$rootfs/usr/share"
    cp -r /usr/share/mysql "$rootfs/usr/share/mysql"
    # the terminal descriptions the client's line editor wants (kubectl exec -it ... mysql)
    cp -r /lib/terminfo "$rootfs/lib/terminfo" 2>/dev/null || true
    mkdir -p "$rootfs/etc/mysql/conf.d" "$rootfs/docker-entrypoint-initdb.d" "$rootfs/usr/local/bin"
    cp "$SRC/mariadb/my.cnf" "$rootfs/etc/mysql/my.cnf"
    cp "$SRC/mariadb/docker-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
}

stage_redis() {
    local ctx rootfs version
    command -v redis-server >/dev/null 2>&1 || die "redis-server missing: run scripts/install-deps.sh"
    version="$(redis-server --version)"
    [[ "$version" == *" v=7.0."* ]] || note "warning: the redis image is tagged 7.0 but holds $version"
    ctx="$(new_context redis)"
    rootfs="$ctx/rootfs"
    put_base "$rootfs" redis 999 /data
    # named redis-server (the Debian one is a link to redis-check-rdb: argv[0] picks the mode)
    put_bin "$rootfs" "$(command -v redis-server)" /usr/local/bin/redis-server
    put_bin "$rootfs" "$(command -v redis-cli)" /usr/local/bin/redis-cli
}

# ---------------------------------------------------------------- build, sizes

build_one() {
    local name="$1" ctx="$OUT/$1" args=()
    case "$name" in
    kafka | mariadb | redis) "stage_$name" ;;
    *) stage_project "$name" ;;
    esac
    # a COPY layer is reused when its content is unchanged: give every staged file one mtime
    find "$ctx" -exec touch -h -d @0 {} +
    "$CONTAINER_ENGINE" build --help 2>&1 | grep -q -- '--network' && args+=(--network=none)
    note "building $(image_ref "$name")"
    "$CONTAINER_ENGINE" build "${args[@]}" -q -f "$ctx/Containerfile" -t "$(image_ref "$name")" \
        --build-arg "VERSION=$(image_version "$name")" --build-arg "SOURCE=$IMAGE_SOURCE" \
        "$ctx" >/dev/null
}

# sizes NAME...: the table of the NAMEd images that exist (MB = 10^6 bytes), to stdout and
# to build/images/sizes.tsv
sizes() {
    local name ref bytes
    mkdir -p "$OUT"
    {
        printf 'image\tsize_mb\n'
        for name in "$@"; do
            ref="$(image_ref "$name")"
            bytes="$("$CONTAINER_ENGINE" image inspect --format '{{.Size}}' "$ref" 2>/dev/null)" || continue
            printf '%s\t%s\n' "$ref" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
        done
    } >"$OUT/sizes.tsv"
    column -t -s $'\t' "$OUT/sizes.tsv" 2>/dev/null || cat "$OUT/sizes.tsv"
}

usage() {
    echo "usage: $0 [build|list|sizes] [NAME...]  (NAME: ${ALL_IMAGES[*]})" >&2
    exit 2
}

main() {
    local cmd="${1:-build}" name names=()
    [ $# -gt 0 ] && shift
    for name in "$@"; do
        [[ " ${ALL_IMAGES[*]} " == *" $name "* ]] || usage
    done
    if [ $# -gt 0 ]; then names=("$@"); else names=("${ALL_IMAGES[@]}"); fi
    case "$cmd" in
    build)
        command -v "$CONTAINER_ENGINE" >/dev/null 2>&1 ||
            die "$CONTAINER_ENGINE not found (CONTAINER_ENGINE=podman|docker)"
        # the binaries first: fail before building anything
        for name in "${names[@]}"; do
            case "$name" in
            kafka | mariadb | redis) ;;
            loadgen) need_bin loadgen && need_bin seed ;;
            *) need_bin "$name" ;;
            esac
        done
        for name in "${names[@]}"; do build_one "$name"; done
        sizes "${ALL_IMAGES[@]}"
        ;;
    list) for name in "${names[@]}"; do image_ref "$name"; done ;;
    sizes) sizes "${names[@]}" ;;
    *) usage ;;
    esac
}

main "$@"
