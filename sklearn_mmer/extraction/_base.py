"""The template of every extractor: a column of media in, a column of cells out.

An extractor is a scikit-learn transformer over a column of file paths (or
texts). Subclasses say which libraries they need, which parameters change
their output, and how to turn items into frame matrices; the base class does
the rest the same way for every kind: finding the column, resolving paths,
refusing bad items by name, and the cache.
"""

import hashlib
import json
import os
import tempfile

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._sklearn_compat import fit_context
from ._audio import ExtractionError, library_versions, require

#: The DataFrame column an extractor reads by default, by its input kind.
DEFAULT_COLUMNS = {"audio": "file", "text": "text", "video": "video"}

#: Bumped when the stored form of cached frames changes, so old entries miss.
CACHE_FORMAT = 1


class BaseExtractor(TransformerMixin, BaseEstimator):
    """Base class of the extractors: media (paths or texts) to frame matrices.

    Subclasses set the class attributes ``kind`` and ``input_kind``, list the
    libraries they need, and implement ``_extract_batch``. Every extractor
    shares the parameters below.

    Parameters
    ----------
    column : str, default=None
        The column of ``X`` holding the media when ``X`` is a DataFrame:
        ``"file"`` for audio, ``"text"`` for text, ``"video"`` for video.
    name : str, default=None
        The name of the output column of cells: the extractor's ``kind`` when
        None.
    root : str or path-like, default=None
        The folder relative paths are relative to (the working directory when
        None). Unused by text extractors.
    cache : str or path-like, default=None
        A folder where results are kept by content: the hash of the file's
        bytes (or of the text) together with :meth:`recipe`. A later run, or
        another fold, with the same recipe reads them back instead of
        extracting again. No cache when None.
    device : str, default="cpu"
        Where models run (``"cpu"``, ``"cuda"``, ``"cuda:1"``); extractors
        without a model ignore it.

    Attributes
    ----------
    recipe_ : dict
        :meth:`recipe` at fit time.
    n_features_out_ : int or None
        The width ``D`` of each frame, when it is known without extracting.

    See Also
    --------
    make_extractor : Build an extractor from a spec such as ``"mfcc"``.
    MFCCExtractor : A concrete extractor.

    Examples
    --------
    >>> from sklearn_mmer.extraction import BaseExtractor, make_extractor
    >>> extractor = make_extractor("logmel", cache="features-cache")
    >>> isinstance(extractor, BaseExtractor), extractor.input_kind
    (True, 'audio')
    >>> extractor.recipe()["parameters"]["n_mels"]
    40
    """

    #: The kind's name (``make_extractor``'s spec).
    kind = None
    #: What the items are: ``"audio"`` and ``"video"`` paths, or ``"text"``.
    input_kind = "audio"
    #: Modules imported to extract, and the extras that install them.
    _modules = ()
    _extras = ""
    #: Distributions whose versions enter the recipe.
    _distributions = ()

    _parameter_constraints = {
        "column": [str, None],
        "name": [str, None],
        "root": [str, os.PathLike, None],
        "cache": [str, os.PathLike, None],
        "device": [str],
    }

    def __init__(self, *, column=None, name=None, root=None, cache=None, device="cpu"):
        self.column = column
        self.name = name
        self.root = root
        self.cache = cache
        self.device = device

    # --- what subclasses provide -------------------------------------------

    def _recipe_parameters(self):
        """The parameters that change the output, as JSON values."""
        return {}

    def _model_fingerprint(self):
        """A hash of the model folder's files, or None for kinds without one."""
        return None

    def _n_features_out(self):
        return None

    def _extract_batch(self, items):
        """Frames for each item (a resolved path, or a text): a list of the
        same length of ndarrays or :class:`ExtractionError` instances."""
        raise NotImplementedError

    # --- the common face -----------------------------------------------------

    def _check_libraries(self):
        require(self._modules, self._extras, f"the {self.kind!r} extractor")

    def recipe(self):
        """Everything that decides this extractor's output, as JSON values.

        Returns
        -------
        recipe : dict
            ``kind``, ``parameters`` (each one that changes the output),
            ``versions`` (of the libraries used, and of sklearn-mmer) and, for
            kinds that read a model folder, ``model_fingerprint`` (a hash of
            its configuration and weight files' contents).
            ``make_extractor(KIND, **recipe["parameters"])`` (``KIND:PATH``
            for the kinds with a model folder) builds the same extractor
            again; the folder's place is not part of the recipe, so that a
            copy of the model elsewhere gives the same recipe.
        """
        from ..utils._version import __version__

        recipe = {
            "kind": self.kind,
            "input_kind": self.input_kind,
            "parameters": self._recipe_parameters(),
            "versions": {
                "sklearn-mmer": __version__,
                **library_versions(self._distributions),
            },
        }
        fingerprint = self._model_fingerprint()
        if fingerprint is not None:
            recipe["model_fingerprint"] = fingerprint
        return recipe

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the parameters and the libraries; nothing is learned.

        Parameters
        ----------
        X : DataFrame, Series or array-like of str, default=None
            Ignored: extractors learn nothing from data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The extractor.
        """
        self._check_libraries()
        self.recipe_ = self.recipe()
        self.n_features_out_ = self._n_features_out()
        return self

    def extract(self, items):
        """Frames of each item, or the error that item raised.

        Never raises for a bad item: each one's :class:`ExtractionError`
        stands in the list in place of its frames, so that a caller can
        report the bad items and keep the others.

        Parameters
        ----------
        items : iterable of str or path-like
            Paths (relative to ``root``) or, for text extractors, texts.

        Returns
        -------
        frames : list
            One entry per item, in order: a float32 ndarray of shape
            ``(T, D)`` (``(L, T, D)`` for every layer of an encoder), or an
            :class:`ExtractionError`.
        """
        self._validate_params()
        self._check_libraries()
        items = list(items)
        results = [None] * len(items)
        store = _Cache(self.cache, self.recipe()) if self.cache is not None else None
        todo = []
        for position, item in enumerate(items):
            try:
                resolved = self._resolve(item)
                key = store.key(resolved, self.input_kind) if store else None
            except ExtractionError as error:
                results[position] = error
                continue
            cached = store.load(key) if store else None
            if cached is not None:
                results[position] = cached
            else:
                todo.append((position, item, resolved, key))
        if todo:
            outputs = self._extract_batch([resolved for _, _, resolved, _ in todo])
            for (position, item, _, key), output in zip(todo, outputs):
                if isinstance(output, ExtractionError):
                    # name the item as the caller gave it
                    output = ExtractionError(item, output.reason, output.detail)
                elif store:
                    store.save(key, output)
                results[position] = output
        return results

    def transform(self, X):
        """Replace the column of media by a column of frame matrices.

        Parameters
        ----------
        X : DataFrame, Series or array-like of str
            A DataFrame with the media in ``column`` (its other columns, such
            as ``speaker``, and its index are kept), or the paths (texts)
            themselves.

        Returns
        -------
        cells : DataFrame
            ``X`` with its media column replaced by the column ``name`` (at
            the same place) whose cells are float32 frame matrices; for a
            Series or array, a one-column DataFrame (with the Series' index).

        Raises
        ------
        ExtractionError
            For the first bad item, naming it (and counting the others): rows
            are never dropped silently.
        """
        check_is_fitted(self)
        name = self.name or self.kind
        if isinstance(X, pd.DataFrame):
            column = self.column or DEFAULT_COLUMNS[self.input_kind]
            if column not in X.columns:
                raise ValueError(
                    f"column {column!r} not in X; X has "
                    f"{', '.join(map(repr, map(str, X.columns)))}: set column= to "
                    "the column holding the media"
                )
            if name != column and name in X.columns:
                raise ValueError(
                    f"the output column {name!r} is already in X: set name= to "
                    "another name"
                )
            items, index = X[column].tolist(), X.index
        else:
            if isinstance(X, pd.Series):
                items, index = X.tolist(), X.index
            else:
                items = np.asarray(X, dtype=object)
                if items.ndim != 1:
                    raise ValueError(
                        f"X must be a DataFrame or a 1-D list of items; got an "
                        f"array of shape {items.shape}"
                    )
                items, index = items.tolist(), None
        frames = self.extract(items)
        errors = [f for f in frames if isinstance(f, ExtractionError)]
        if errors:
            first = errors[0]
            more = f"; {len(errors) - 1} more items failed" if len(errors) > 1 else ""
            raise ExtractionError(first.item, first.reason, first.detail + more)
        cells = pd.Series(frames, index=index, dtype=object, name=name)
        if not isinstance(X, pd.DataFrame):
            return cells.to_frame()
        out = X.copy()
        at = out.columns.get_loc(column)
        out = out.drop(columns=column)
        out.insert(at, name, cells)
        return out

    def _resolve(self, item):
        """The item as the extractor reads it: a path joined to ``root``."""
        if item is None or (
            not isinstance(item, (str, bytes, os.PathLike)) and pd.isna(item)
        ):
            raise ExtractionError(item, "missing", "the cell is empty")
        if self.input_kind == "text":
            if not isinstance(item, str):
                raise ExtractionError(item, "unreadable", "not a text")
            return item
        path = os.fspath(item)
        if path == "":
            raise ExtractionError(item, "missing", "the cell is empty")
        if self.root is not None and not os.path.isabs(path):
            path = os.path.join(os.fspath(self.root), path)
        return path

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the input is a column of paths or texts, not a numeric matrix:
        # scikit-learn's checks that feed numbers do not apply
        tags.input_tags.two_d_array = False
        tags.input_tags.string = self.input_kind == "text"
        tags.requires_fit = True
        return tags


class _Cache:
    """Frames kept in a folder by the item's content and the extractor's recipe.

    Each entry is a ``.npy`` file (no pickles) named by the sha256 of the
    recipe and of the item's content, written to a temporary name and renamed,
    so that a killed run or two runs at once never leave a half-written entry.
    """

    def __init__(self, folder, recipe):
        self.folder = os.fspath(folder)
        text = json.dumps([CACHE_FORMAT, recipe], sort_keys=True, default=str)
        self.recipe_hash = hashlib.sha256(text.encode()).hexdigest()

    def key(self, resolved, input_kind):
        digest = hashlib.sha256(self.recipe_hash.encode())
        if input_kind == "text":
            digest.update(b"text\0" + resolved.encode("utf-8"))
        else:
            try:
                with open(resolved, "rb") as file:
                    for block in iter(lambda: file.read(1 << 20), b""):
                        digest.update(block)
            except FileNotFoundError:
                raise ExtractionError(resolved, "missing", "no such file") from None
            except OSError as error:
                raise ExtractionError(resolved, "unreadable", str(error)) from None
        return digest.hexdigest()

    def _path(self, key):
        return os.path.join(self.folder, key[:2], f"{key}.npy")

    def load(self, key):
        try:
            return np.load(self._path(key), allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError):
            # absent, or unreadable (then extracted again and overwritten)
            return None

    def save(self, key, frames):
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=os.path.dirname(path), prefix=".part-", suffix=".npy"
        )
        try:
            with os.fdopen(handle, "wb") as file:
                np.save(file, np.asarray(frames), allow_pickle=False)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
