"""Runs after training: the store, typed results, settings files, comparisons and rebuilt models.

- `store`: one SQLite row per run and a folder of safetensors files (never pickle);
- `spec`: `RunSpec`, what defines a run;
- `result`: a run's stored arrays, written once and read back as a typed `RunResult` in the
  series' units and standardised, with bands, parts, picks, metrics, cost and the split's spans;
- `config`: a run's settings as JSON or TOML, and back as a run to launch;
- `compare`: runs of one setting and the baselines scored on the same windows;
- `rebuild`: a stored run's model, its forecast past the end of the data and its explanations.
"""
