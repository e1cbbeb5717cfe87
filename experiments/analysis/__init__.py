"""Analysis of batch results: reads ``results/<name>/`` (manifest.json + Parquet), never the model.

Public entry points (import the submodule; this package imports nothing heavy):

- ``summary.summary_table(result_dir) -> str``: terminal table of one batch.
- ``report.write_batch_report(result_dir, out_path=None) -> Path``: the batch's report.html.
- ``compare.compare_dirs(dirs, out=None, allow_incomplete=False) -> (Comparison, Path)`` and
  ``compare.comparison_text(comparison)``: compare batches against the first one.
- ``sensitivity.analyze_results(result_dir, outcomes)``, ``sensitivity.sobol_indices``,
  ``sensitivity.morris_indices``: Sobol / Morris indices from a Saltelli or Morris design.
- ``stats``: the statistics (bootstrap, Wilson, Newcombe, KS, Cliff's delta, Holm, ...).
- ``loading.load_batch(result_dir)``: the run table and manifest; ``loading.BatchError``
  carries the one-line ``<dir>: <what is wrong>`` message.
- ``synthetic``: results directories with planted, known answers (tests and benchmarks).
"""
