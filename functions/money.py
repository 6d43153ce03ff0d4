"""Money as integer minor units with a currency; ``Decimal`` only at the edges."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

# ISO 4217 exponents of the currencies partner shops settle in.
EXPONENTS: dict[str, int] = {"CNY": 2, "HKD": 2, "USD": 2, "EUR": 2, "JPY": 0, "KRW": 0}


class MoneyError(ValueError):
    """A value that cannot be turned into money exactly."""


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise MoneyError(f"amount must be an integer of minor units, not {type(self.amount).__name__}")
        if self.currency not in EXPONENTS:
            raise MoneyError(f"unknown currency {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise MoneyError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        """This amount ``quantity`` times."""
        return Money(self.amount * quantity, self.currency)

    def to_json(self) -> dict:
        return {"amount": self.amount, "currency": self.currency}

    @classmethod
    def from_json(cls, data: dict) -> Money:
        return cls(data["amount"], data["currency"])

    def format(self) -> str:
        """Human form for pages and statements, e.g. ``¥1,080.00``."""
        return format_minor(self.amount, self.currency)


def exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency``."""
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r} (known: {', '.join(sorted(EXPONENTS))})") from None


def parse_decimal(text: str, currency: str) -> int:
    """Parse a decimal string such as ``"1080.00"`` into minor units, refusing any rounding."""
    if not isinstance(text, str):
        raise MoneyError(f"price must be a quoted decimal string, not {type(text).__name__}")
    cleaned = text.strip()
    if not cleaned or any(c not in "0123456789.-+" for c in cleaned):
        raise MoneyError(f"{text!r} is not a decimal number")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not a finite number")
    digits = exponent(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{text!r} has more than {digits} decimal places for {currency}")
    return int(scaled)


def parse_rate(text: str) -> Decimal:
    """Parse a commission rate such as ``"0.08"``; it must lie in [0, 1]."""
    if not isinstance(text, str):
        raise MoneyError(f"rate must be a quoted decimal string, not {type(text).__name__}")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not a decimal") from None
    if not value.is_finite() or value < 0 or value > 1:
        raise MoneyError(f"{text!r} is not a rate between 0 and 1")
    return value


def round_down(amount: int, rate: str | Decimal) -> int:
    """``amount × rate`` rounded down to the minor unit (commissions never round up)."""
    product = Decimal(amount) * (rate if isinstance(rate, Decimal) else parse_rate(rate))
    return int(product.to_integral_value(rounding=ROUND_DOWN))


def prorate(total: int, part: int, whole: int) -> int:
    """``total × part / whole`` rounded down, in integers only."""
    if whole <= 0:
        raise MoneyError("cannot prorate over a non-positive whole")
    return (total * part) // whole


def format_minor(amount: int, currency: str) -> str:
    """``108000, "CNY"`` → ``¥1,080.00``."""
    digits = exponent(currency)
    symbol = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "KRW": "₩"}[currency]
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**digits) if digits else (abs(amount), 0)
    text = f"{whole:,}"
    if digits:
        text += f".{frac:0{digits}d}"
    return f"{sign}{symbol}{text}"


def decimal_text(amount: int, currency: str) -> str:
    """``108000, "CNY"`` → ``"1080.00"`` (for schema.org and CSV), exact."""
    digits = exponent(currency)
    sign = "-" if amount < 0 else ""
    if not digits:
        return f"{sign}{abs(amount)}"
    whole, frac = divmod(abs(amount), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"
