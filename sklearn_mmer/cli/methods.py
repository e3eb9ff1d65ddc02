"""``mmer methods``: the methods ``mmer compare --methods`` accepts; with
``--data``, those that can run on that corpus's modalities."""

from ._common import EXIT_OK, Reporter
from ._options import add_data_options, add_modalities_option


def add_parser(commands):
    """Add ``mmer methods`` to ``mmer``'s subparsers."""
    parser = commands.add_parser(
        "methods",
        help="list the methods mmer compare can run",
        description=(
            "List the methods mmer compare can run. With --data, list those "
            "that can run on that corpus's modalities, and say why the others "
            "cannot."
        ),
    )
    add_data_options(parser, n_utterances=False)
    add_modalities_option(parser)
    parser.set_defaults(run=run, quiet=False, seed=0)
    return parser


def run(args):
    """``mmer methods``: the methods and what they are."""
    from ..methods import method_availability, registered_methods

    methods = registered_methods().values()
    width = max(len("<modality>"), *(len(method.name) for method in methods))
    if args.data is None and not args.modalities:
        print(
            f"{'<modality>':<{width}}  each modality alone (visual, acoustic, "
            "lexical, ...): pooled, scaled, one MLP  [default]"
        )
        for method in methods:
            print(f"{method.name:<{width}}  {method.description}{_flags(method)}")
        return EXIT_OK
    modalities = _modalities(args)
    availability = method_availability(modalities)
    print(f"methods for the modalities {', '.join(modalities)}:")
    for modality in modalities:
        print(f"{modality:<{width}}  {modality} alone: pooled, scaled, one MLP")
    for method in methods:
        if availability[method.name] is None:
            print(f"{method.name:<{width}}  {method.description}{_flags(method)}")
    refused = [m for m in methods if availability[m.name] is not None]
    if refused:
        print("cannot run on these modalities:")
        for method in refused:
            print(f"{method.name:<{width}}  {availability[method.name]}")
    return EXIT_OK


def _flags(method):
    flag = "  [default]" if method.default else ""
    return flag + ("  [transductive]" if method.transductive else "")


def _modalities(args):
    """The modalities of --data (with --modalities, those of them), or of
    --modalities alone."""
    if args.data is None:
        return list(dict.fromkeys(args.modalities))
    from ._steps import load_corpus

    # mmer methods writes no list of the corpus's faults; mmer compare does
    where = "the issues.csv of mmer compare --data"
    return list(load_corpus(args, Reporter(quiet=False), issues_csv=where).modalities)
