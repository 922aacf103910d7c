"""A study run here: its jobs, the local scheduler and workers, preflight checks, status and progress, and the
collection of completed stages into the study directory's files."""
