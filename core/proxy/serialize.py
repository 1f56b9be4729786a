"""Numbers as text, after LLMTime (Gruver et al., NeurIPS 2023).

A window's history fixes an affine scaler (the alpha-quantile and beta-offset scheme): the offset
sits `beta` of the history's range below its minimum and the scale is the `alpha`-quantile of the
history above that offset, so most values land in [0, 1.x] and a continuation somewhat above or
below the history still has room. Scaled values are written with a fixed number of digits after an
implied decimal point (`digits`=3: 0.052 → "52", 1.5 → "1500"), a minus sign when allowed, and a
separator after every time step: "52,1500,".

The text is tokenised atom by atom, one token per digit, separator and sign, in the form the
tokenizer reads digits: a tokenizer that splits digits by itself (Llama, SmolLM2) gets "1", "2",
","; one that merges digit runs (GPT-2) gets " 1", " 2", " ," (LLMTime's spaces). Building the ids
atom by atom keeps the alphabet closed even where the tokenizer would merge two atoms (SmolLM2 has
a ",-" token), so every id the model reads or writes is one of the alphabet's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEPARATOR = ","
MINUS = "-"


@dataclass(frozen=True)
class Scaler:
    """x ↦ (x − offset) / scale, fitted on a window's history only."""

    offset: float
    scale: float

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) - self.offset) / self.scale

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64) * self.scale + self.offset


def fit_scaler(history: np.ndarray, alpha: float = 0.95, beta: float = 0.3) -> Scaler:
    """LLMTime's scaler: offset min − beta·range, scale the alpha-quantile above the offset."""
    history = np.asarray(history, dtype=np.float64)
    if history.size == 0 or not np.isfinite(history).all():
        raise ValueError("the history must be a non-empty run of finite numbers")
    if not 0 < alpha <= 1 or beta < 0:
        raise ValueError(f"the scaler needs 0 < alpha ≤ 1 and beta ≥ 0, got alpha {alpha}, beta {beta}")
    low, high = float(history.min()), float(history.max())
    offset = low - beta * (high - low)
    scale = float(np.quantile(history - offset, alpha))
    if not scale > 0:  # a constant history: its values sit at the offset
        scale = max(abs(low), 1.0)
    return Scaler(offset, scale)


@dataclass(frozen=True)
class NumberFormat:
    digits: int = 3  # digits after the implied decimal point
    signed: bool = True  # whether a minus sign may be written
    max_digits: int = 7  # at most this many digits per number (values below 10^(max_digits - digits))

    def __post_init__(self):
        if not 0 <= self.digits < self.max_digits:
            raise ValueError(f"digits must be from 0 to {self.max_digits - 1}, got {self.digits}")

    @property
    def step(self) -> float:
        """The value of the last digit: decoding is exact to within half of it."""
        return 10.0**-self.digits

    @property
    def limit(self) -> float:
        """The largest magnitude that can be written."""
        return (10**self.max_digits - 1) * self.step


def to_text(values: np.ndarray, number_format: NumberFormat) -> str:
    """Scaled values as digits with a separator after each ("52,1500,"); too large is an error."""
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("only finite numbers can be written as digits")
    integers = np.rint(values * 10**number_format.digits).astype(np.int64)
    if np.abs(integers).max(initial=0) >= 10**number_format.max_digits:
        raise ValueError(
            f"a value of {np.abs(values).max():.4g} needs more than {number_format.max_digits} digits; "
            "fewer digits after the point, or a larger scaler quantile, would fit it"
        )
    if not number_format.signed:
        integers = np.maximum(integers, 0)  # unsigned: negatives are written as zero
    return "".join(f"{MINUS if i < 0 else ''}{abs(int(i))}{SEPARATOR}" for i in integers)


def from_text(text: str, number_format: NumberFormat) -> np.ndarray:
    """The values of complete numbers (each ended by a separator); malformed text is an error."""
    numbers = text.split(SEPARATOR)[:-1]  # what follows the last separator is unfinished
    values = []
    for number in numbers:
        digits = number[1:] if number.startswith(MINUS) else number
        if not digits.isdigit() or not digits.isascii():
            raise ValueError(f"{number!r} is not a number written with digits")
        value = int(digits) * number_format.step
        values.append(-value if number.startswith(MINUS) else value)
    return np.asarray(values, dtype=np.float64)


class Alphabet:
    """The token ids of the ten digits, the separator and the minus sign for one tokenizer."""

    def __init__(self, tokenizer):
        probe = tokenizer.encode("1234567890", add_special_tokens=False)
        splits_digits = len(probe) == 10 and all(
            tokenizer.decode([i]).strip() == d for i, d in zip(probe, "1234567890", strict=True)
        )
        self.spaced = not splits_digits  # GPT-2 style: a space before every atom
        prefix = " " if self.spaced else ""
        atoms = [str(d) for d in range(10)] + [SEPARATOR, MINUS]
        ids = {}
        for atom in atoms:
            encoded = tokenizer.encode(prefix + atom, add_special_tokens=False)
            if len(encoded) != 1:
                raise ValueError(
                    f"this tokenizer writes {prefix + atom!r} as {len(encoded)} tokens; numbers cannot be "
                    "written one digit per token with it"
                )
            ids[atom] = encoded[0]
        self._set(ids, tokenizer.eos_token_id)

    @classmethod
    def from_ids(cls, ids: dict[str, int], end_id: int) -> Alphabet:
        """An alphabet of a model with its own numeric vocabulary (no tokenizer): `ids` per atom."""
        alphabet = cls.__new__(cls)
        alphabet.spaced = False
        alphabet._set(dict(ids), end_id)
        return alphabet

    def _set(self, ids: dict[str, int], end_id: int) -> None:
        if set(ids) != {*(str(d) for d in range(10)), SEPARATOR, MINUS}:
            raise ValueError("an alphabet needs the ten digits, the separator and the minus sign")
        if len(set(ids.values())) != len(ids):
            raise ValueError("this tokenizer gives two number symbols the same token")
        self.ids = ids
        self.digit_ids = [ids[str(d)] for d in range(10)]
        self.separator_id = ids[SEPARATOR]
        self.minus_id = ids[MINUS]
        self.end_id = end_id
        self.atom_of = {token: atom for atom, token in ids.items()}

    def encode(self, text: str) -> list[int]:
        """Serialised text to ids, one token per character (an atom)."""
        try:
            return [self.ids[character] for character in text]
        except KeyError as error:
            raise ValueError(f"{error.args[0]!r} is not a digit, separator or minus sign") from None

    def decode(self, ids) -> str:
        """Ids back to text, stopping at the end token."""
        text = []
        for token in ids:
            if token == self.end_id:
                break
            text.append(self.atom_of[int(token)])
        return "".join(text)


def tokens_per_value(values: np.ndarray, number_format: NumberFormat) -> np.ndarray:
    """How many atoms each value takes when written (digits, a possible sign, the separator)."""
    rounded = np.rint(np.asarray(values, dtype=np.float64) * 10**number_format.digits)
    lengths = np.char.str_len(np.abs(rounded).astype(np.int64).astype(str))
    signs = (rounded < 0) & number_format.signed
    return (lengths + signs + 1).astype(int)


def trim_history(values: np.ndarray, number_format: NumberFormat, budget: int) -> np.ndarray:
    """The most recent values whose text fits in `budget` tokens (the oldest are dropped first)."""
    lengths = tokens_per_value(values, number_format)
    used = np.cumsum(lengths[::-1])
    keep = int(np.searchsorted(used, budget, side="right"))
    if keep == 0:
        raise ValueError(f"not even one value fits in {budget} tokens; allow a longer context")
    return np.asarray(values)[len(values) - keep :]


def worst_case_tokens(horizon: int, number_format: NumberFormat) -> int:
    """Tokens a forecast of `horizon` values may take at most (the longest numbers, signed)."""
    return horizon * (number_format.max_digits + int(number_format.signed) + 1) + 1


@dataclass(frozen=True)
class WindowText:
    """One window as tokens: the history (the prompt) and, when known, the continuation."""

    prompt_ids: list[int]
    continuation_ids: list[int]
    scaler: Scaler


def window_text(
    history: np.ndarray,
    future: np.ndarray | None,
    alphabet: Alphabet,
    number_format: NumberFormat,
    *,
    context_tokens: int,
    horizon: int,
    scale_alpha: float = 0.95,
    scale_beta: float = 0.3,
) -> WindowText:
    """Serialise a window: the scaler is fitted on the history alone, which is trimmed (oldest
    first) so that it and the longest possible forecast fit in `context_tokens`."""
    history = np.asarray(history, dtype=np.float64)
    scaler = fit_scaler(history, scale_alpha, scale_beta)
    budget = context_tokens - worst_case_tokens(horizon, number_format)
    if budget < 1:
        raise ValueError(
            f"a context of {context_tokens} tokens cannot hold a forecast of {horizon} values "
            f"({worst_case_tokens(horizon, number_format)} tokens at most); allow a longer context"
        )
    # A jump far beyond the history's scale (after a flat stretch, say) is clipped to the largest
    # number the format writes, so one odd window cannot stop a run.
    limit = number_format.limit
    scaled = np.clip(scaler.transform(history), -limit, limit)
    kept = trim_history(scaled, number_format, budget)
    prompt = alphabet.encode(to_text(kept, number_format))
    continuation = []
    if future is not None:
        continuation = alphabet.encode(
            to_text(np.clip(scaler.transform(future), -limit, limit), number_format)
        )
    return WindowText(prompt, continuation, scaler)
