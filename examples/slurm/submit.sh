#!/bin/bash
# Queue a large httplab sweep on Slurm: the array job (sweep.sbatch), then
# the merge (merge.sbatch), which starts only once every task of the array
# has succeeded.
#
# Usage: [SCENARIO=..] [SEEDS=..] [SWEEP_DIR=..] [HTTPLAB=..] \
#            examples/slurm/submit.sh [sbatch options for the array]
# e.g.   SCENARIO=loss-sweep SEEDS=200 examples/slurm/submit.sh --array=0-31
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# --parsable prints the job id, or "id;cluster" on a multi-cluster site.
array=$(sbatch --parsable "$@" "$here/sweep.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch")
merge=${merge%%;*}
echo "queued: array job $array (the sweep), job $merge (the merge, after every task of $array succeeds)"
