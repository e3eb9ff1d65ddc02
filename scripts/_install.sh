# What the setup scripts and .ci/run share, sourced from the repository root.

# A command (a pip install) tried again, twice, after it fails: pip's own
# retries cover a refused connection, not a download cut off half-way, which
# fails the whole install.
retry() { "$@" || { sleep 10 && "$@"; } || { sleep 30 && "$@"; }; }

# Compile once what each process of a run would otherwise compile again, with
# the environment's python ($1):
# - the package's modules, as pip compiles a package it installs (an editable
#   install is left as source), so that each process that imports the package
#   (an mmer command, every worker of a run) reads them compiled, even where
#   PYTHONDONTWRITEBYTECODE is set;
# - the pooling kernels into numba's cache: the first pooling after an install
#   compiles them (about 20 s in all), and until the cache holds them every
#   process that pools compiles them again (each worker of a test run or of a
#   first parallel run);
# - librosa's kernels (the audio extra's) likewise: librosa compiles them at
#   its first import after an install (about 11 s), in each process that
#   extracts spectral frames until the cache holds them.
compile_once() {
    "$1" -m compileall -q sklearn_mmer
    "$1" -c "from sklearn_mmer.preprocessing._pooling import compile_kernels
compile_kernels()
from sklearn_mmer.extraction._spectral import compile_kernels
compile_kernels()"
}
