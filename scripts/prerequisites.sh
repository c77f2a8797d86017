# Installs what wxpush needs on Debian/Ubuntu, or says exactly what to install.
# Sourced by scripts/demo and scripts/test.

wxpush_require_packages() {
    local missing=()
    pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev pkg-config)
    command -v kcat >/dev/null 2>&1 || missing+=(kcat)
    # The threaded WeChat stand-in (bench --server threaded, the untuned-server tests) is Python.
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
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
