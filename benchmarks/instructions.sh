#!/bin/bash
# User-space instructions per one_task instance of benchmarks/engine_bench.py, under valgrind's
# callgrind: a figure a busy machine does not distort. Runs the benchmark at 104 and 504 instances and
# prints the difference / 400 (start-up cancels out). With a second checkout as argument (e.g. a
# worktree of an older commit: `git worktree add /tmp/bench_old 1978e73`), measures it too.
#
#     benchmarks/instructions.sh [OTHER_CHECKOUT]      # about 3 minutes per checkout
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
python="$here/.venv/bin/python"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
count() {  # checkout, instances -> instructions
    # the checkout's own exporter plugin first: the venv's editable install is this checkout's
    PYTHONPATH="$1:$1/plugins/duckdb_exporter" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$python" "$here/benchmarks/engine_bench.py" "$2" 2>&1 | awk '/Collected/ {print $4}'
}
for checkout in "$here" "$@"; do
    small=$(count "$checkout" 104)
    large=$(count "$checkout" 504)
    echo "$checkout: $(( (large - small) / 400 )) instructions per instance"
done
