"""Headless commands. Each prints one JSON object on standard output.

python -m core evaluate --data CSV --model naive|snaive|mean --protocol ett-hour|ett-minute|ratio
    --features M|S|MS --target OT --seq-len L --pred-len H [--season M] [--drop-last-batch N]
python -m core m4 --train CSV --test CSV --horizon H --season M --model naive|snaive|naive2
"""

from __future__ import annotations

import argparse
import json
import sys

from core.data import FEATURES, PROTOCOLS
from core.evaluation import evaluate_m4, evaluate_window_baseline, read_m4
from core.ingest import DataError, read_protocol_csv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser("evaluate", help="score a baseline on the test split")
    evaluate.add_argument("--data", required=True, help="CSV with a date column and channels")
    evaluate.add_argument("--model", required=True, choices=["naive", "snaive", "mean"])
    evaluate.add_argument("--protocol", required=True, choices=PROTOCOLS)
    evaluate.add_argument("--features", default="M", choices=FEATURES)
    evaluate.add_argument("--target", default="OT")
    evaluate.add_argument("--seq-len", type=int, required=True)
    evaluate.add_argument("--pred-len", type=int, required=True)
    evaluate.add_argument("--season", type=int, help="season length for snaive")
    evaluate.add_argument(
        "--drop-last-batch", type=int, metavar="N", help="drop the last incomplete test batch of N"
    )

    m4 = commands.add_parser("m4", help="score a baseline on an M4 group")
    m4.add_argument("--train", required=True)
    m4.add_argument("--test", required=True)
    m4.add_argument("--horizon", type=int, required=True)
    m4.add_argument("--season", type=int, required=True)
    m4.add_argument("--model", required=True, choices=["naive", "snaive", "naive2"])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "evaluate":
            if args.model == "snaive" and args.season is None:
                raise ValueError("--model snaive needs --season (for example 24 for hourly data)")
            frame = read_protocol_csv(args.data)
            result = evaluate_window_baseline(
                frame.to_numpy(),
                list(frame.columns),
                model=args.model,
                protocol=args.protocol,
                features=args.features,
                target=args.target,
                seq_len=args.seq_len,
                pred_len=args.pred_len,
                season=args.season,
                drop_last_batch=args.drop_last_batch,
            )
            result["data"] = args.data
        else:
            group = read_m4(args.train, args.test, args.horizon)
            result = evaluate_m4(group, args.model, args.horizon, args.season)
    except (DataError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0
