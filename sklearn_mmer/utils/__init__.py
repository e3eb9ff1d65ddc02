"""Private helpers shared by every package of sklearn-mmer.

Nothing here is public API: names may change between releases. The modules
know nothing of the rest of the package, so that every layer may import them.
They are grouped by concern:

- :mod:`._data`: the data contract: its metadata column names, cells and the
  columns holding them, modality names and their pooling, sessions parsed from
  IEMOCAP-style ids, sample counts, the one speaker rule
  (:func:`._data.speakers_of`) and the one implementation of every split of
  whole speakers, the columns a member estimator reads, and the data's
  fingerprint (a run's and a model file's manifest record it);
- :mod:`._runtime`: the run: the package's version (the model files and the
  command line read it) and the libraries', the fixed number of threads every
  fit computes with, worker processes that end with their caller, running
  on a Dask cluster (``distributed`` imported only
  when one is asked for), and the first line of an error;
- :mod:`._files`: the lock of a run's folder (one run at a time writes there),
  sizes in words, and JSON nesting measured without recursion (for reading
  untrusted files);
- :mod:`._sklearn_compat`: the one door to scikit-learn's private names, and the
  project's own code in place of the riskier ones (a base class for ensembles of
  named estimators among them).

:mod:`._dask_plugin` holds the Dask worker plugin apart: it subclasses
``distributed.WorkerPlugin``, so its module imports ``distributed`` (an optional
dependency) at its top, and the workers import it by name to unpickle the plugin.
"""
