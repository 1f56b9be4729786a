"""Training: one loop, background jobs and the run store."""
