"""`portway data generate`: the synthetic churn dataset, any size."""

from __future__ import annotations


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="datasets: generate synthetic data")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    generate = actions.add_parser("generate", help="write a seeded synthetic churn dataset (CSV or Parquet)")
    generate.add_argument("--rows", type=int, required=True, help="number of rows (scales to millions)")
    generate.add_argument("--output", "-o", default="data/churn.csv", help="output file, .csv or .parquet")
    generate.add_argument("--seed", type=int, default=7)
    generate.set_defaults(func=_generate)


def _generate(args) -> int:
    from portway.datasets.generate import generate

    path = generate(args.output, rows=args.rows, seed=args.seed)
    print(f"wrote {args.rows} rows to {path}")
    return 0
