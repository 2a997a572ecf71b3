//! Pure rules for carts and orders (O2, O3, O8, O9).
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use super::error::{Code, Problem};
use super::ids::AccountId;
use super::model::{ItemStatus, Order, OrderStatus};
use super::policy::GroupLimits;

/// O2: splits a cart into payment groups: each at most `max_domains` domains from at most
/// `max_sellers` sellers with at most `max_per_seller` domains of one seller. A seller's
/// domains stay together as far as the limits allow (first fit), so a cart from one seller of
/// up to 50 domains is one group. The input order of domains within a seller is kept.
pub fn group_cart<T: Clone>(
    cart: &[(AccountId, T)],
    limits: GroupLimits,
) -> Vec<Vec<(AccountId, T)>> {
    let mut by_seller: BTreeMap<&AccountId, Vec<T>> = BTreeMap::new();
    let mut seller_order: Vec<&AccountId> = Vec::new();
    for (seller, item) in cart {
        by_seller
            .entry(seller)
            .or_insert_with(|| {
                seller_order.push(seller);
                Vec::new()
            })
            .push(item.clone());
    }
    let mut groups: Vec<Vec<(AccountId, T)>> = Vec::new();
    let mut group_sellers: Vec<Vec<&AccountId>> = Vec::new();
    for seller in seller_order {
        for chunk in by_seller[seller].chunks(limits.max_per_seller) {
            let fits = |i: usize| {
                !group_sellers[i].contains(&seller)
                    && group_sellers[i].len() < limits.max_sellers
                    && groups[i].len() + chunk.len() <= limits.max_domains
            };
            let slot = (0..groups.len()).find(|&i| fits(i));
            let i = slot.unwrap_or_else(|| {
                groups.push(Vec::new());
                group_sellers.push(Vec::new());
                groups.len() - 1
            });
            group_sellers[i].push(seller);
            groups[i].extend(chunk.iter().map(|item| (seller.clone(), item.clone())));
        }
    }
    groups
}

/// O8: the ways a domain trade can be paid: Alipay only (balance, fund balance, debit
/// quick-pay). Parsing is the rule: credit instruments and anything unknown are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    Alipay,
}

impl std::str::FromStr for PaymentMethod {
    type Err = Problem;

    fn from_str(method: &str) -> Result<Self, Problem> {
        check_payment_method(method).map(|()| PaymentMethod::Alipay)
    }
}

/// O8: only Alipay pays for domain trades; credit instruments are refused.
fn check_payment_method(method: &str) -> Result<(), Problem> {
    match method {
        "alipay" => Ok(()),
        "credit_card" | "card" | "credit" | "huabei" | "paypal" | "bank_transfer" => Err(Problem::new(
            Code::PaymentMethodNotAllowed,
            format!("`{method}` cannot pay for domain trades: use Alipay (balance, fund balance, debit quick-pay) (O8)"),
        )),
        other => Err(Problem::new(
            Code::PaymentMethodNotAllowed,
            format!("unknown payment method `{other}`: use `alipay` (O8)"),
        )),
    }
}

/// O3, O5, E1: whether the buyer may start a payment for the order at `now`. The deadline
/// is read here, whether or not a sweep has recorded the expiry yet.
pub fn check_payable(order: &Order, now: DateTime<Utc>) -> Result<(), Problem> {
    match status_at(order, now) {
        _ if in_window(order, now) => Ok(()),
        OrderStatus::AwaitingPayment
        | OrderStatus::Processing
        | OrderStatus::Expired
        | OrderStatus::Failed => Err(Problem::new(
            Code::PaymentWindowClosed,
            format!(
                "the payment window closed at {} (O3)",
                order.pay_by.to_rfc3339()
            ),
        )),
        other => Err(Problem::new(
            Code::OrderNotPayable,
            format!(
                "the order is {}, not awaiting payment",
                serde_json::to_string(&other)
                    .unwrap_or_default()
                    .trim_matches('"')
            ),
        )),
    }
}

/// O3, O4: whether the order is unpaid and its payment window still open at `now`.
pub fn in_window(order: &Order, now: DateTime<Utc>) -> bool {
    order.status.is_unpaid() && now < order.pay_by
}

/// The status an order shows at `now`: an unpaid order past its window is expired even
/// before the sweeper records it (E1) — unless a payment attempt's result is not back yet
/// (O6): the buyer may have paid in time, so it stays `processing` until the provider
/// has been asked.
pub fn status_at(order: &Order, now: DateTime<Utc>) -> OrderStatus {
    let result_pending = order
        .payment
        .as_ref()
        .is_some_and(|p| p.status == crate::model::PaymentStatus::Pending);
    if order.status.is_unpaid() && now >= order.pay_by && !result_pending {
        OrderStatus::Expired
    } else {
        order.status
    }
}

/// O9: an order is complete when every domain is delivered or has failed (and was refunded).
pub fn all_items_settled(order: &Order) -> bool {
    order.items.iter().all(|i| i.status != ItemStatus::Pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seller(n: usize) -> AccountId {
        AccountId::parse(&format!("seller{n}")).unwrap()
    }

    fn cart(sellers: usize, per_seller: usize) -> Vec<(AccountId, usize)> {
        (0..sellers)
            .flat_map(|s| (0..per_seller).map(move |d| (seller(s), s * 1000 + d)))
            .collect()
    }

    fn assert_within_limits(groups: &[Vec<(AccountId, usize)>], limits: GroupLimits) {
        for group in groups {
            assert!(group.len() <= limits.max_domains);
            let mut counts: BTreeMap<&AccountId, usize> = BTreeMap::new();
            for (s, _) in group {
                *counts.entry(s).or_default() += 1;
            }
            assert!(counts.len() <= limits.max_sellers);
            assert!(counts.values().all(|&c| c <= limits.max_per_seller));
        }
    }

    #[test]
    fn o2_one_seller_up_to_fifty_is_one_group() {
        let groups = group_cart(&cart(1, 50), GroupLimits::default());
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].len(), 50);
    }

    #[test]
    fn o2_fifty_one_from_one_seller_splits() {
        let groups = group_cart(&cart(1, 51), GroupLimits::default());
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), vec![50, 1]);
    }

    #[test]
    fn o2_large_carts_respect_every_limit_and_keep_every_domain() {
        let limits = GroupLimits::default();
        for (sellers, per) in [(3, 40), (41, 10), (12, 60), (100, 7)] {
            let input = cart(sellers, per);
            let groups = group_cart(&input, limits);
            assert_within_limits(&groups, limits);
            let mut out: Vec<usize> = groups.iter().flatten().map(|(_, d)| *d).collect();
            out.sort();
            let mut expected: Vec<usize> = input.iter().map(|(_, d)| *d).collect();
            expected.sort();
            assert_eq!(out, expected, "{sellers}x{per}");
        }
    }

    fn order_due_at(pay_by: DateTime<Utc>, status: OrderStatus) -> Order {
        Order {
            id: crate::ids::OrderId::mint(ulid::Ulid::nil()),
            buyer: seller(9),
            items: vec![],
            total: crate::money::Money::ZERO,
            status,
            pay_by,
            created_at: pay_by - chrono::Duration::minutes(10),
            updated_at: pay_by - chrono::Duration::minutes(10),
            payment: None,
            paid_at: None,
            completed_at: None,
            releasing: false,
            contact: None,
        }
    }

    #[test]
    fn e1_o3_the_window_is_read_from_the_deadline_even_before_a_sweep() {
        let pay_by = Utc::now();
        let order = order_due_at(pay_by, OrderStatus::AwaitingPayment);
        assert!(check_payable(&order, pay_by - chrono::Duration::seconds(1)).is_ok());
        assert_eq!(
            check_payable(&order, pay_by).unwrap_err().code,
            Code::PaymentWindowClosed
        );
        assert_eq!(status_at(&order, pay_by), OrderStatus::Expired);
        let swept = order_due_at(pay_by, OrderStatus::Expired);
        assert_eq!(
            check_payable(&swept, pay_by).unwrap_err().code,
            Code::PaymentWindowClosed
        );
        // A payment whose result is not back: shown as processing, but no new attempt.
        let mut paying = order_due_at(pay_by, OrderStatus::Processing);
        paying.payment = Some(crate::model::PaymentRef {
            payment_id: crate::ids::PaymentId::mint(ulid::Ulid::nil()),
            status: crate::model::PaymentStatus::Pending,
            failure: None,
        });
        assert_eq!(status_at(&paying, pay_by), OrderStatus::Processing);
        assert!(in_window(&paying, pay_by - chrono::Duration::seconds(1)));
        assert!(!in_window(&paying, pay_by));
        assert_eq!(
            check_payable(&paying, pay_by).unwrap_err().code,
            Code::PaymentWindowClosed
        );
        let done = order_due_at(pay_by, OrderStatus::Completed);
        assert_eq!(
            check_payable(&done, pay_by - chrono::Duration::minutes(1))
                .unwrap_err()
                .code,
            Code::OrderNotPayable
        );
    }

    #[test]
    fn o8_only_alipay_pays() {
        assert_eq!("alipay".parse::<PaymentMethod>(), Ok(PaymentMethod::Alipay));
        for bad in ["credit_card", "huabei", "bitcoin"] {
            assert_eq!(
                bad.parse::<PaymentMethod>().unwrap_err().code,
                Code::PaymentMethodNotAllowed
            );
        }
    }
}
