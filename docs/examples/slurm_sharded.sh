#!/usr/bin/env bash
# Sharded ActiveKD on Slurm (docs/cli.md, "Sharded work"): run this driver on a login node.
# The teacher's pass over the pool and every round's pool scoring run as job arrays of N
# one-GPU tasks; the teacher merge, training and selection run as single jobs. The checkout,
# the config, AKD_CACHE and the run folder must be on storage every node sees.
set -euo pipefail
N=16
CONFIG=/shared/akd/imagenet.json   # the run's config: dataset, teacher, clip, strategies, ...
OUT=/shared/akd/runs/imagenet
export AKD_CACHE=/shared/akd/cache # Slurm passes the environment on to the jobs
AKD="deno run -A /shared/activekd/cli/main.ts"
GPU=(--gpus=1 --cpus-per-task=8 --time=12:00:00)

# The teacher: N array tasks each write one shard, then one job checks and merges them.
sbatch --wait "${GPU[@]}" --array=1-$N \
  --wrap "$AKD teacher --config $CONFIG --shard \$SLURM_ARRAY_TASK_ID/$N --quiet"
srun "${GPU[@]}" $AKD teacher --config $CONFIG --merge

# The run stops with exit 3 at each scoring step, leaving one score request in the run
# folder; N array tasks score the pool, and the run is resumed, which merges their shards.
resume=()
[ -f "$OUT/config.json" ] && resume=(--resume)
while true; do
  rc=0
  srun "${GPU[@]}" $AKD run --config $CONFIG --out $OUT "${resume[@]}" --score-shards $N || rc=$?
  resume=(--resume)
  [ "$rc" -eq 3 ] || exit "$rc"
  request=$(find "$OUT/checkpoints" -name score-request.safetensors)
  sbatch --wait "${GPU[@]}" --array=1-$N \
    --wrap "$AKD score --request $request --shard \$SLURM_ARRAY_TASK_ID/$N --quiet"
done
