//! Money in CNY at scale 2, on `rust_decimal`. Never floats.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::error::{Code, Problem};

/// The largest amount the API accepts (API.md conventions).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 2); // 100000000.00

/// A non-negative amount of CNY with exactly two decimals, at most [`MAX_AMOUNT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Money(Decimal);

impl Money {
    /// Zero yuan.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, 2));

    /// Parses a decimal string such as `"1999.00"` or `"5"`: at most 2 decimals, not negative,
    /// not over 100000000.00. Anything else is `INVALID_AMOUNT`.
    pub fn parse(text: &str) -> Result<Money, Problem> {
        let invalid = || {
            Problem::new(
                Code::InvalidAmount,
                format!("`{text}` is not an amount: use a decimal string with at most 2 decimals, from 0 to 100000000.00"),
            )
        };
        let trimmed = text.trim();
        if trimmed.is_empty()
            || trimmed != text
            || !trimmed.chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            return Err(invalid());
        }
        let value: Decimal = trimmed.parse().map_err(|_| invalid())?;
        if value.scale() > 2 || value.is_sign_negative() || value > MAX_AMOUNT {
            return Err(invalid());
        }
        Ok(Money::from_decimal(value))
    }

    /// Wraps a decimal already known to be a valid amount, rescaled to 2 decimals.
    fn from_decimal(mut value: Decimal) -> Money {
        value.rescale(2);
        Money(value)
    }

    /// The amount as a decimal.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Sum of amounts (the total of an order).
    pub fn sum<I: IntoIterator<Item = Money>>(items: I) -> Money {
        Money::from_decimal(items.into_iter().map(|m| m.0).sum())
    }

    /// `rate` of this amount, rounded half-up to 0.01 (L8: the fee rounds half-up to the fen).
    pub fn percent_of(self, rate: Decimal) -> Money {
        let fee = (self.0 * rate).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Money::from_decimal(fee.max(Decimal::ZERO))
    }

    /// This amount less `other`; never below zero (a fee is never more than the price).
    pub fn saturating_sub(self, other: Money) -> Money {
        Money::from_decimal((self.0 - other.0).max(Decimal::ZERO))
    }

    /// A sortable fixed-width key (fen, zero padded) for price indexes.
    pub fn sort_key(self) -> String {
        let fen = (self.0 * Decimal::from(100)).trunc();
        format!("{:013}", fen)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl TryFrom<String> for Money {
    type Error = Problem;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Money::parse(&value)
    }
}

impl From<Money> for String {
    fn from(value: Money) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amounts_with_at_most_two_decimals() {
        assert_eq!(Money::parse("1999.00").unwrap().to_string(), "1999.00");
        assert_eq!(Money::parse("5").unwrap().to_string(), "5.00");
        assert_eq!(Money::parse("0").unwrap(), Money::ZERO);
        assert_eq!(
            Money::parse("100000000.00").unwrap().to_string(),
            "100000000.00"
        );
    }

    #[test]
    fn refuses_bad_amounts_with_invalid_amount() {
        for bad in [
            "1.001",
            "-1",
            "100000000.01",
            "",
            "abc",
            "1e3",
            " 1",
            "+1",
            "1,000",
        ] {
            let err = Money::parse(bad).unwrap_err();
            assert_eq!(err.code, Code::InvalidAmount, "{bad}");
        }
    }

    #[test]
    fn l8_fee_rounds_half_up_to_the_fen() {
        let rate: Decimal = "0.01".parse().unwrap();
        assert_eq!(
            Money::parse("1999.00")
                .unwrap()
                .percent_of(rate)
                .to_string(),
            "19.99"
        );
        assert_eq!(
            Money::parse("0.50").unwrap().percent_of(rate).to_string(),
            "0.01"
        );
        assert_eq!(
            Money::parse("0.49").unwrap().percent_of(rate).to_string(),
            "0.00"
        );
        assert_eq!(
            Money::parse("12.50").unwrap().percent_of(rate).to_string(),
            "0.13"
        );
    }

    #[test]
    fn sort_keys_order_like_amounts() {
        let a = Money::parse("9.99").unwrap().sort_key();
        let b = Money::parse("10.00").unwrap().sort_key();
        let c = Money::parse("100000000.00").unwrap().sort_key();
        assert!(a < b && b < c);
    }
}
