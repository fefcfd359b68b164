# httplab's everyday commands. Everything here is also a plain cargo
# command; `just --list` shows them. Get just with `cargo install just`.

set positional-arguments := true

# Show the recipes.
default:
    @just --list

# Arguments are key=value: loss= (%), rtt= (ms), bandwidth= (Mbit/s),
# seeds= (count), scenario= (a name or a file; default page), cc=
# (cubic|newreno|bbr), pacing= (off|on), iw= (initial window, segments),
# scheduler= (round-robin|sequential|priorities), certificate=
# (minimal|realistic), coalescing= (on|off), h3= (HTTP/3 discovery:
# known|race|alt-svc), events= (the scenario's targeted drops and
# blackouts: on|off). Written as arguments after the recipe, not as just's
# own NAME=VALUE overrides.
# Run a sweep into reports/out/<scenario>/, e.g. just bench loss=2 rtt=80
bench *args:
    #!/usr/bin/env bash
    set -euo pipefail
    scenario=page
    flags=()
    for arg in "$@"; do
        value="${arg#*=}"
        case "$arg" in
            loss=*) [ -n "$value" ] && flags+=(--loss "$value") ;;
            rtt=*) [ -n "$value" ] && flags+=(--rtt "$value") ;;
            bandwidth=*) [ -n "$value" ] && flags+=(--bandwidth "$value") ;;
            seeds=*) [ -n "$value" ] && flags+=(--seeds "$value") ;;
            scenario=*) [ -n "$value" ] && scenario="$value" ;;
            cc=*) [ -n "$value" ] && flags+=(--cc "$value") ;;
            pacing=*) [ -n "$value" ] && flags+=(--pacing "$value") ;;
            iw=*) [ -n "$value" ] && flags+=(--initial-window "$value") ;;
            scheduler=*) [ -n "$value" ] && flags+=(--scheduler "$value") ;;
            certificate=*) [ -n "$value" ] && flags+=(--certificate "$value") ;;
            coalescing=*) [ -n "$value" ] && flags+=(--coalescing "$value") ;;
            h3=*) [ -n "$value" ] && flags+=(--h3-discovery "$value") ;;
            events=*) [ -n "$value" ] && flags+=(--network-events "$value") ;;
            *)
                echo "just bench: unknown argument '$arg'; use loss=, rtt=, bandwidth=, seeds=, scenario=, cc=, pacing=, iw=, scheduler=, certificate=, coalescing=, h3=, events=" >&2
                exit 2
                ;;
        esac
    done
    exec cargo run --release --bin httplab -- bench --scenario "$scenario" ${flags[@]+"${flags[@]}"}

# Run the tests (the README's test command).
test:
    cargo test --workspace

# Render the report (tables, methodology) of a results directory again.
report DIR:
    cargo run --release --bin httplab -- report {{ quote(DIR) }}

# Serve the content model over HTTP/1.1, HTTP/2 and HTTP/3 on 127.0.0.1:8443.
serve listen="127.0.0.1:8443":
    cargo run --release --bin httplab -- serve --listen {{ quote(listen) }}

# As root: the simulation against the real kernel, e.g.
# just calibrate --scenario bulk-30mb --loss 2 --protocols h2 (flags as
# for `httplab calibrate`; see docs/calibration.md).
calibrate *args:
    cargo run --release --bin httplab -- calibrate "$@"

# As root: a command behind the emulated link, e.g.
# just shell --loss 2 -- sh -c 'curl --cacert "$HTTPLAB_CA" ...'.
shell *args:
    cargo run --release --bin httplab -- shell "$@"
