# Source first in a kernel test that must pass for both rule shapes: the script then runs itself
# once per shape, with SHAPE=map (the default) and SHAPE=classic, and exits 1 if either failed,
# 77 if either was skipped (and none failed), else 0. Inside a run, SHAPE is set.
if [ -z "${SHAPE:-}" ]; then
    each_shape_rc=0
    each_shape_skipped=0
    for each_shape in map classic; do
        echo "=== rule shape: $each_shape"
        r=0
        SHAPE=$each_shape bash "$0" "$@" || r=$?
        if [ "$r" = 77 ]; then each_shape_skipped=1
        elif [ "$r" != 0 ]; then each_shape_rc=1
        fi
    done
    [ "$each_shape_rc" = 0 ] && [ "$each_shape_skipped" = 1 ] && exit 77
    exit "$each_shape_rc"
fi
# Rules per chain for the default 3 protocols x states: map one, classic one per counter.
shape_rules() {  # shape_rules COUNTERS_IN_CHAIN
    if [ "$SHAPE" = map ]; then echo 1; else echo "$1"; fi
}
