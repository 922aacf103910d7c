"""From a study's config to its study directory, in four layers that import only downwards:
`plan` (the stage graph and what it runs on) <- `stage` (running one stage) <- `run` (running a study here:
scheduling, workers, status, collection) <- `slurm` (running it as cluster jobs)."""
