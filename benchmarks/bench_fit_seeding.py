"""What seeding a network's fit costs, as the toolkit seeds it and with
``torch.manual_seed``.

Each fit of a network seeds a private copy of torch's generator
(``neural._base.seeded_rng``). ``torch.manual_seed`` also queues the seed for
every accelerator not yet initialised (CUDA, XPU, MTIA), and formats the call
stack each time to do so: its cost grows with the depth of the stack the fit
is called from (a fit inside ``GridSearchCV`` inside ``cross_val_score`` inside
a test or a notebook cell runs 60-120 frames deep). Both ways are timed side
by side at three stack depths, after a check that they draw the same numbers.

    python benchmarks/bench_fit_seeding.py [--repeats 300]
"""

import argparse
import time

import torch

from sklearn_mmer.neural._base import seeded_rng


def with_manual_seed(seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.rand(4)


def with_seeded_rng(seed):
    with seeded_rng(seed, "cpu"):
        return torch.rand(4)


def at_depth(depth, function, *args):
    return function(*args) if depth == 0 else at_depth(depth - 1, function, *args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    assert torch.equal(with_manual_seed(3), with_seeded_rng(3)), "not the same draws"
    print("same draws from both: yes")
    for depth in (10, 60, 120):
        times = {}
        for name, function in [
            ("torch.manual_seed", with_manual_seed),
            ("seeded_rng", with_seeded_rng),
        ]:
            start = time.perf_counter()
            for _ in range(args.repeats):
                at_depth(depth, function, 0)
            times[name] = (time.perf_counter() - start) / args.repeats * 1e3
        ratio = times["seeded_rng"] / times["torch.manual_seed"]
        print(
            f"stack depth {depth:3d}: torch.manual_seed "
            f"{times['torch.manual_seed']:.3f} ms, seeded_rng "
            f"{times['seeded_rng']:.3f} ms per fit (ratio {ratio:.3f})"
        )


if __name__ == "__main__":
    main()
