//! O8: credit instruments are refused. Two lines, one list each, in the provider's words:
//! the cashier is told not to offer credit at all (`disable_pay_channels` of a page pay),
//! and money that came through a credit channel anyway (`fund_bill_list` of a notification
//! or a trade query) is refunded in full, never delivered. Pure: the adapters read the
//! provider's fields into [`FundBill`]s, these decide.

/// O8, first line: the cashier's credit channels (Alipay `disable_pay_channels`): credit
/// cards, Huabei (花呗) and its instalments.
pub const CASHIER_CREDIT_CHANNELS: &[&str] = &[
    "credit_group",
    "pcredit",
    "pcreditpayInstallment",
    "creditCard",
    "creditCardExpress",
    "creditCardCartoon",
];

/// O8, second line: the fund channels (`fund_bill_list[].fund_channel`) that are credit.
pub const CREDIT_FUND_CHANNELS: &[&str] = &[
    "CREDIT_CARD",
    "PCREDIT",
    "CREDITCARD",
    "PCREDITPAY_INSTALLMENT",
];

/// O8: a bank card's `fund_type` that is credit (Alipay reports `BANKCARD` funds with
/// `DEBIT_CARD`, `CREDIT_CARD` or `MIXED_CARD`).
const CREDIT_FUND_TYPE: &str = "CREDIT_CARD";

/// One line of how a payment was funded, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundBill {
    /// `fund_channel` (`fundChannel` in notifications): `ALIPAYACCOUNT`, `PCREDIT`, ...
    pub channel: String,
    /// `fund_type`, which the provider gives for bank cards only.
    pub fund_type: Option<String>,
}

impl FundBill {
    /// O8: whether this money came through a credit instrument.
    pub fn is_credit(&self) -> bool {
        CREDIT_FUND_CHANNELS
            .iter()
            .any(|c| c.eq_ignore_ascii_case(self.channel.trim()))
            || self
                .fund_type
                .as_deref()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(CREDIT_FUND_TYPE))
    }
}

/// O8, first line: the value of a page pay's `disable_pay_channels`.
pub fn disabled_pay_channels() -> String {
    CASHIER_CREDIT_CHANNELS.join(",")
}

/// O8, second line: the first credit instrument among a payment's funds, if any (a payment
/// partly funded by credit is refused as a whole).
pub fn credit_fund(bills: &[FundBill]) -> Option<&FundBill> {
    bills.iter().find(|b| b.is_credit())
}

/// O8: why a credit-funded payment was refused, as the buyer reads it on the order or push.
pub fn credit_refusal(bill: &FundBill) -> String {
    let channel = match &bill.fund_type {
        Some(kind) if !CREDIT_FUND_CHANNELS.contains(&bill.channel.as_str()) => {
            format!("{} ({kind})", bill.channel)
        }
        _ => bill.channel.clone(),
    };
    format!(
        "O8: paid through {channel}, a credit instrument; credit cards and Huabei cannot pay \
         for domain trades, so the whole amount is refunded. Pay again with the Alipay \
         balance, the fund balance or a debit card."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bill(channel: &str, fund_type: Option<&str>) -> FundBill {
        FundBill {
            channel: channel.into(),
            fund_type: fund_type.map(Into::into),
        }
    }

    #[test]
    fn o8_the_cashier_hides_every_credit_channel() {
        assert_eq!(
            disabled_pay_channels(),
            "credit_group,pcredit,pcreditpayInstallment,creditCard,creditCardExpress,creditCardCartoon"
        );
    }

    #[test]
    fn o8_credit_channels_are_found_among_the_funds() {
        for credit in CREDIT_FUND_CHANNELS {
            assert!(bill(credit, None).is_credit(), "{credit}");
        }
        for fine in [
            "ALIPAYACCOUNT",
            "FINANCEACCOUNT",
            "POINT",
            "COUPON",
            "BANKCARD",
        ] {
            assert!(!bill(fine, None).is_credit(), "{fine}");
        }
        assert!(bill("BANKCARD", Some("CREDIT_CARD")).is_credit());
        assert!(!bill("BANKCARD", Some("DEBIT_CARD")).is_credit());
        let mixed = [bill("ALIPAYACCOUNT", None), bill("PCREDIT", None)];
        assert_eq!(credit_fund(&mixed), Some(&mixed[1]));
        assert_eq!(credit_fund(&mixed[..1]), None);
        assert_eq!(credit_fund(&[]), None);
    }

    #[test]
    fn o8_the_refusal_names_the_rule_and_the_channel() {
        let reason = credit_refusal(&bill("PCREDIT", None));
        assert!(reason.starts_with("O8: paid through PCREDIT,"), "{reason}");
        let card = credit_refusal(&bill("BANKCARD", Some("CREDIT_CARD")));
        assert!(card.contains("BANKCARD (CREDIT_CARD)"), "{card}");
    }
}
