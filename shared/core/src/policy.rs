//! Settings the rules are evaluated with. Rates and margins are policy, not code (L8, P2, S5).
use chrono::Duration;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

use super::money::Money;
use super::security::PushSecurity;

/// Numbers the rules depend on; the defaults are RULES.md's.
#[derive(Debug, Clone)]
pub struct Policy {
    /// L4: a listing cannot be ordered for this long after it is published or changed.
    pub listing_cooldown: Duration,
    /// O3: an order must be paid within this window.
    pub payment_window: Duration,
    /// L2.3: a listing needs at least this long before expiry.
    pub listing_expiry_margin: Duration,
    /// P2: a push needs at least this long before expiry (a setting, default 15 days).
    pub push_expiry_margin: Duration,
    /// L2.2: `.cn`, `.中国`, `.公司`, `.网络` cannot trade this soon after registration.
    pub registration_hold_cn: Duration,
    /// L2.2: every other TLD cannot trade this soon after registration.
    pub registration_hold_other: Duration,
    /// L8/S5: the fixed-price fee rate in force when no fee period overrides it.
    pub fixed_price_fee_rate: Decimal,
    /// P8/S5: the push fee rate in force when no fee period overrides it.
    pub push_fee_rate: Decimal,
    /// S4: seller proceeds stay frozen this long after completion.
    pub settlement_period: Duration,
    /// L3: when the seller gives no end time, the listing runs this long.
    pub default_listing_duration: Duration,
    /// P5: how long a push stays valid.
    pub push_validity: Duration,
    /// P9: how long an unlocked push waits for the seller's confirmation before it is forced.
    pub push_confirmation_window: Duration,
    /// P9: the transfer-out lock after a forced change of registrant.
    pub transfer_lock: Duration,
    /// P8: registry transfer fees (过户费) by TLD (normal form), per domain.
    pub transfer_fees: BTreeMap<String, Money>,
    /// The most domains one `POST /orders` may carry (service-wide cart cap).
    pub max_cart: usize,
    /// O7: order attempts per account per minute.
    pub order_rate_per_minute: u32,
    /// Push publications per seller per minute (a publish-and-withdraw loop cannot flood a
    /// buyer's inbox).
    pub push_rate_per_minute: u32,
    /// O6: refreshes (each asks the payment provider) per account per minute, orders' and
    /// pushes' together.
    pub refresh_rate_per_minute: u32,
    /// P12: when publishing and accepting a push need the security password
    /// (`MARKET_PUSH_SECURITY`: `if_set`, the default, or `required`).
    pub push_security: PushSecurity,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            listing_cooldown: Duration::minutes(3),
            payment_window: Duration::minutes(10),
            listing_expiry_margin: Duration::days(7),
            push_expiry_margin: Duration::days(15),
            registration_hold_cn: Duration::days(7),
            registration_hold_other: Duration::hours(24),
            fixed_price_fee_rate: Decimal::new(1, 2),
            push_fee_rate: Decimal::ZERO,
            settlement_period: Duration::days(7),
            default_listing_duration: Duration::days(30),
            push_validity: Duration::days(7),
            push_confirmation_window: Duration::days(7),
            transfer_lock: Duration::days(60),
            transfer_fees: BTreeMap::new(),
            max_cart: 2_000,
            order_rate_per_minute: 30,
            push_rate_per_minute: 30,
            refresh_rate_per_minute: 20,
            push_security: PushSecurity::IfSet,
        }
    }
}

/// O2: the limits of one payment group.
#[derive(Debug, Clone, Copy)]
pub struct GroupLimits {
    pub max_domains: usize,
    pub max_sellers: usize,
    pub max_per_seller: usize,
}

impl Default for GroupLimits {
    fn default() -> Self {
        GroupLimits {
            max_domains: 500,
            max_sellers: 40,
            max_per_seller: 50,
        }
    }
}

/// P8: reads a transfer-fee table such as `cn=10.00,xn--fiqs8s=10.00` (TLD in normal form,
/// amount per domain), as `MARKET_TRANSFER_FEES` gives it.
pub fn parse_transfer_fees(text: &str) -> Result<BTreeMap<String, Money>, String> {
    let mut table = BTreeMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (tld, amount) = entry
            .split_once('=')
            .ok_or_else(|| format!("`{entry}` is not tld=amount"))?;
        let tld = tld.trim().trim_start_matches('.').to_ascii_lowercase();
        let amount = Money::parse(amount.trim()).map_err(|p| p.detail)?;
        table.insert(tld, amount);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p8_transfer_fee_tables_parse() {
        let table = parse_transfer_fees("cn=10.00, .XN--FIQS8S=8").unwrap();
        assert_eq!(table["cn"].to_string(), "10.00");
        assert_eq!(table["xn--fiqs8s"].to_string(), "8.00");
        assert!(parse_transfer_fees("cn").is_err());
        assert!(parse_transfer_fees("cn=-1").is_err());
        assert!(parse_transfer_fees("").unwrap().is_empty());
    }
}
