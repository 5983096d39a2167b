"""The ``scratchnet`` console command.

    scratchnet train       the main job: autoencoders on the digits shipped with scikit-learn
    scratchnet gradcheck   check every registered op (one line per op, non-zero exit on failure)
    scratchnet bench       time our kernels and layers against PyTorch (ratios, JSON, plot)
    scratchnet info        versions, devices and kernel backends available here
"""
from __future__ import annotations

import argparse
import sys


def _cmd_gradcheck(args) -> int:
    from . import registry
    results, missing = registry.run_all(names=set(args.op) if args.op else None)
    failed = [r for r in results if not r.ok]
    if args.op and not results:
        print(f"no op case named {args.op}; known: {', '.join(c.name for c in registry.CASES)}",
              file=sys.stderr)
        return 2
    return 1 if failed or (missing and not args.op) else 0


def _cmd_bench(args) -> int:
    from .bench import run_benchmarks
    return run_benchmarks(only=args.only, quick=args.quick, out_dir=args.out,
                          bench_dir=args.dir)


def _cmd_train(args) -> int:
    from .main_job import run
    return run(data=args.data, latent=args.latent, epochs=args.epochs, seed=args.seed,
               out_dir=args.out, quick=args.quick)


def _cmd_info(args) -> int:
    import platform

    import numpy as np

    from . import __version__, backend
    from .kernels import dispatch
    print(f"scratchnet {__version__}  python {platform.python_version()}  numpy {np.__version__}")
    cuda = backend.cuda_available()
    print(f"device 'cuda': {'available' if cuda else 'not available'}"
          + ("" if cuda else f" ({backend._CUPY_ERROR})"))
    for name in dispatch.BACKENDS:
        why = dispatch.why_unavailable(name)
        print(f"kernel backend {name:<11} {'available' if why is None else 'unavailable: ' + why}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scratchnet", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="main job: autoencoders on embedded digits data")
    t.add_argument("--data", default="digits", choices=["digits", "mnist5k"])
    t.add_argument("--latent", type=int, default=10, help="code size k")
    t.add_argument("--epochs", type=int, default=None, help="epochs for the MLP autoencoder")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default="runs/main", help="folder for checkpoint, results, plot")
    t.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    t.set_defaults(fn=_cmd_train)

    g = sub.add_parser("gradcheck", help="gradient-check every registered op")
    g.add_argument("op", nargs="*", help="only these op cases (default: all)")
    g.set_defaults(fn=_cmd_gradcheck)

    b = sub.add_parser("bench", help="time kernels and layers against PyTorch")
    b.add_argument("--only", nargs="*", default=None,
                   help="benchmark names (e.g. engine conv masked_conv_kernels rnn_kernels)")
    b.add_argument("--quick", action="store_true", help="fewer repetitions and sizes")
    b.add_argument("--out", default="benchmarks/results", help="folder for JSON and plots")
    b.add_argument("--dir", default=None, help="folder holding bench_*.py (default: ./benchmarks)")
    b.set_defaults(fn=_cmd_bench)

    i = sub.add_parser("info", help="versions, devices, kernel backends")
    i.set_defaults(fn=_cmd_info)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
