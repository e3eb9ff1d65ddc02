"""Private helpers shared by every package of sklearn-mmer.

Nothing here is public API: names may change between releases. The modules
know nothing of the rest of the package, so that every layer may import them:

- :mod:`._columns`: the data contract's column names;
- :mod:`._cells`: missing cells and which columns hold cells;
- :mod:`._modalities`: checking a list of modality names;
- :mod:`._groups`: sample counts, speaker groups and the one speaker rule
  (:func:`._groups.speakers_of`);
- :mod:`._splits`: the one implementation of every split of whole speakers;
- :mod:`._sessions`: session numbers parsed from IEMOCAP-style ids;
- :mod:`._members`: the columns a member estimator reads;
- :mod:`._ensemble`: a base class for ensembles of named estimators;
- :mod:`._limits`: sizes in words, and JSON nesting measured without
  recursion (for reading untrusted files);
- :mod:`._sklearn_compat`: the one door to scikit-learn's private names;
- :mod:`._threads`: the fixed number of threads every fit computes with;
- :mod:`._lock`: the lock of a run's folder (one run at a time writes there);
- :mod:`._version`: the package's version (the model files and the command
  line read it);
- :mod:`._dask`: running on a Dask cluster (``distributed`` imported only
  when one is asked for), and :mod:`._dask_plugin`, its worker plugin.
"""
