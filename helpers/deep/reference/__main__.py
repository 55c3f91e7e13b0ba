"""``python -m helpers.deep.reference [RUN ...]`` (``make reference RUN=chapter/name``): train the reference runs.

Examples::

    python -m helpers.deep.reference --status                 # what is stored, what is left, sizes against the cap
    python -m helpers.deep.reference iwae/iwae-k50            # one run to its catalogue passes
    python -m helpers.deep.reference --round-robin            # every run, a few passes each in turn
    python -m helpers.deep.reference iwae/vae-k1 --target 200 # beyond the catalogue's passes (not finalized)

Stop it at any time (Ctrl-C, kill, end of session): the same command resumes from the last completed pass.
"""

from __future__ import annotations

import argparse
import sys

import torch

from helpers.deep.data import DatasetNotAvailableError
from helpers.deep.reference.catalogue import CHAPTERS, select
from helpers.deep.reference.files import ReferenceMismatchError
from helpers.deep.reference.trainer import advance, print_status


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers.deep.reference", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("runs", nargs="*", metavar="RUN",
                   help=f"chapter/name or chapter (default: every run of {', '.join(CHAPTERS)})")  # fmt: skip
    p.add_argument("--status", action="store_true", help="print what is stored and left, and the sizes; train nothing")
    p.add_argument("--target", type=int, help="train to this many passes instead of the catalogue's")
    p.add_argument("--round-robin", action="store_true", help="advance every unfinished run by --chunk passes in turn")
    p.add_argument("--chunk", type=int, help="passes per turn with --round-robin (default: 5%% of a run's passes)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the other core is the build's)")
    p.add_argument("--root", help="the folder of the runs (default: helpers/deep/reference next to the code)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name in ("target", "chunk", "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser().error(f"--{name} must be a positive integer (got {getattr(args, name)})")
    try:
        selected = select(args.runs)
    except KeyError as error:
        parser().error(str(error.args[0]))
    if args.status:
        print_status(selected, args.root)
        return 0
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set in this process
        pass
    kw = dict(root=args.root, target=args.target, progress=not args.no_progress)
    try:
        if args.round_robin:
            pending = list(selected)
            while pending:
                for e in list(pending):
                    if advance(e, passes=args.chunk or max(1, e.run.epochs // 20), **kw):
                        pending.remove(e)
        else:
            for e in selected:
                advance(e, **kw)
    except KeyboardInterrupt:
        print("\nstopped: every checkpoint holds its last completed pass; the same command resumes.", file=sys.stderr)
        return 130
    except (ReferenceMismatchError, DatasetNotAvailableError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print_status(selected, args.root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
