#!/usr/bin/env bash
# Grade a class as a Slurm job array: one shard per array task, then one merge job.
#
#   sbatch --array=1-8 deploy/slurm-grade.sh /shared/submissions /shared/grades 8 12345
#   # when all tasks are done (or: sbatch --dependency=afterok:<jobid> --wrap "...merge...")
#   rnncourse grade --merge /shared/grades/shard-* --out /shared/grades/final
#
# Arguments: SUBMISSIONS folder, GRADES folder (on a shared file system), N shards, SEED. Use the
# same SEED for every task (hidden inputs must come from one seed) and record it.
# Each node needs Python with rnncourse installed and bubblewrap (apt-get install bubblewrap).
#SBATCH --job-name=rnncourse-grade
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=rnncourse-grade-%A_%a.log
set -euo pipefail
SUBMISSIONS=${1:?submissions folder}
GRADES=${2:?grades folder}
N=${3:?number of shards}
SEED=${4:?seed (the same for every shard)}
I=${SLURM_ARRAY_TASK_ID:?run me with sbatch --array=1-N}
exec rnncourse grade "$SUBMISSIONS" --out "$GRADES/shard-$I" --shard "$I/$N" --seed "$SEED" \
    --jobs "${SLURM_CPUS_PER_TASK:-2}"
