"""EDA report: ``python -m training eda --data-dir D --out reports/eda/`` writes one self-contained HTML page.

Modules: ``frame`` (DataFrames from a Dataset), ``quality`` / ``promos`` / ``calendar_effects`` /
``store_profiles`` / ``competition`` (pure computations, one function per question), ``findings``
(all of them, timed), ``figures_*`` and ``sections_*`` (plots and text), ``report`` (HTML assembly).
"""
