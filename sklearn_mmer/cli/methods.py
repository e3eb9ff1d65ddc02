"""``mmer methods``: the methods ``mmer compare --methods`` accepts."""

from ._common import EXIT_OK


def add_parser(commands):
    """Add ``mmer methods`` to ``mmer``'s subparsers."""
    parser = commands.add_parser(
        "methods",
        help="list the methods mmer compare can run",
        description="List the methods mmer compare can run.",
    )
    parser.set_defaults(run=run)
    return parser


def run(args):
    """``mmer methods``: the methods and what they are."""
    from ..methods import registered_methods

    methods = registered_methods().values()
    width = max(len("<modality>"), *(len(method.name) for method in methods))
    print(
        f"{'<modality>':<{width}}  each modality alone (visual, acoustic, "
        "lexical, ...): pooled, scaled, one MLP  [default]"
    )
    for method in methods:
        flag = "  [default]" if method.default else ""
        flag += "  [transductive]" if method.transductive else ""
        print(f"{method.name:<{width}}  {method.description}{flag}")
    return EXIT_OK
