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
from core.dataset import DataError
from core.evaluation import evaluate_m4, evaluate_window_baseline, read_m4
from core.ingest import read_protocol_csv
from core.training.headless import add_train_arguments, train_command
from core.training.trainer import TrainingError


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser("evaluate", help="score a baseline on the test split")
    evaluate.add_argument("--data", required=True, help="CSV with a date column and channels")
    evaluate.add_argument("--model", required=True, choices=["naive", "snaive", "mean"])
    evaluate.add_argument("--protocol", required=True, choices=PROTOCOLS)
    evaluate.add_argument("--features", default="M", choices=FEATURES)
    evaluate.add_argument("--target", default="OT")
    evaluate.add_argument("--seq-len", type=positive_int, required=True)
    evaluate.add_argument("--pred-len", type=positive_int, required=True)
    evaluate.add_argument("--season", type=positive_int, help="season length for snaive")
    evaluate.add_argument(
        "--drop-last-batch", type=positive_int, metavar="N", help="drop the last incomplete test batch of N"
    )

    m4 = commands.add_parser("m4", help="score a baseline on an M4 group")
    m4.add_argument("--train", required=True)
    m4.add_argument("--test", required=True)
    m4.add_argument("--horizon", type=positive_int, required=True)
    m4.add_argument("--season", type=positive_int, required=True)
    m4.add_argument("--model", required=True, choices=["naive", "snaive", "naive2"])

    train = commands.add_parser("train", help="train a model and store the run")
    add_train_arguments(train)
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
        elif args.command == "m4":
            group = read_m4(args.train, args.test, args.horizon)
            result = evaluate_m4(group, args.model, args.horizon, args.season)
        else:
            result = train_command(args)
            if result is None:  # a torchrun rank other than 0: rank 0 prints
                return 0
    except (DataError, ValueError, OSError, TrainingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # unforeseen: still one line, no traceback
        print(f"error: an unexpected {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    try:
        print(json.dumps(result, allow_nan=False))
    except ValueError:
        print("error: the result holds NaN or infinite values; check the data for gaps", file=sys.stderr)
        return 2
    return 0
