//! The same marketplace on DynamoDB's API (moto): the sale end to end and the race.
use std::sync::Arc;

use market_tests::client::spawn_app_on_dynamo;
use rust_decimal::Decimal;

use crate::api::compliance::{
    m3_a_restore_reactivates_the_listing_and_holds_its_domain,
    m3_the_seller_reads_the_reason_the_public_never_does,
};
use crate::api::credit::{
    o8_credit_paid_orders_are_refunded_and_the_balance_then_pays,
    o8_credit_paid_pushes_are_refunded_and_the_balance_then_pays,
};
use crate::api::helpers::*;
use crate::api::nothing_wedges::{
    a_contradictory_price_range_is_invalid_query,
    a_large_abandoned_cart_ends_and_the_sweeper_lives_on,
};
use crate::api::payouts::{
    s4_s6_no_payout_while_a_debt_is_open, s6_a_refused_transfer_returns_the_money_with_the_reason,
    s6_a_seller_pays_out_sixty_percent_then_the_rest,
    s6_a_transfer_whose_answer_is_lost_is_looked_up_and_paid_once,
    s6_concurrent_payouts_of_the_whole_balance_cannot_overdraw,
};
use crate::api::race::{assert_one_winner, race_for_one_listing};
use crate::api::refresh::{
    app_with_refresh_limit, o6_push_refresh_finds_lost_payments,
    o6_refreshes_are_rate_limited_per_account,
};
use crate::api::security::{
    app_requiring_security, p12_a_retried_publication_replays_without_a_new_try,
    p12_five_wrong_lock_even_the_right_one_for_fifteen_minutes,
    p12_racing_wrong_tries_are_counted_exactly, p12_required_refuses_an_account_without_one,
    p12_set_change_publish_and_accept,
};
use crate::api::settlement::s4_a_payout_goes_to_the_verified_settlement_account;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_end_to_end_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "dyn.com", "250.00").await;
    let placed = app.order("bob", &["dyn.com"]).await;
    assert_eq!(placed.status, 201, "{placed:?}");
    let id = placed.body["orders"][0]["id"].as_str().unwrap().to_owned();
    let otn = app.pay("bob", &id).await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "completed"
    );
    let ledger = app.get("/me/ledger", Some("alice")).await.body;
    assert_eq!(ledger["balances"]["frozen"], "247.50");
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_buyers_race_on_dynamodb_and_exactly_one_wins() {
    let app = Arc::new(spawn_app_on_dynamo().await);
    alice_and_bob(&app).await;
    orderable_listing(&app, "contested.com", "88.00").await;
    let outcomes = race_for_one_listing(app.clone(), 20).await;
    assert_one_winner(&app, &outcomes, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_locked_push_end_to_end_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    alice_and_bob(&app).await;
    app.domain("dynpush.com", "alice").await;
    app.domain("dynpush2.com", "alice").await;
    let push = app
        .post(
            "/pushes",
            Some("alice"),
            serde_json::json!({ "domains": ["dynpush.com", "dynpush2.com"], "buyer": "bob", "price": "300.00", "lock_60d": true }),
        )
        .await;
    assert_eq!(push.status, 201, "{push:?}");
    let id = push.body["id"].as_str().unwrap();
    let accepted = app
        .post(
            &format!("/pushes/{id}/accept"),
            Some("bob"),
            serde_json::json!({ "captcha_token": "pass" }),
        )
        .await;
    let otn = accepted.body["payment"]["out_trade_no"]
        .as_str()
        .unwrap()
        .to_owned();
    app.provider_says(&otn, "TRADE_SUCCESS").await;
    app.provider_says(&otn, "TRADE_FINISHED").await;
    assert_eq!(
        app.get(&format!("/pushes/{id}"), Some("bob")).await.body["status"],
        "completed"
    );
    let owned = app.get("/me/domains", Some("bob")).await.body;
    assert_eq!(owned["items"].as_array().unwrap().len(), 2);
    assert!(owned["items"][0]["transfer_lock_until"].is_string());
    assert_eq!(
        app.get("/me/ledger", Some("alice")).await.body["balances"]["frozen"],
        "300.00"
    );
    assert_eq!(
        ledger_sum(&app, &sale_accounts("alice", "bob")).await,
        Decimal::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sale_through_sqs_and_dynamodb() {
    let app = market_tests::client::spawn_app_on_aws_apis().await;
    alice_and_bob(&app).await;
    orderable_listing(&app, "sqs.com", "40.00").await;
    let id = app.order("bob", &["sqs.com"]).await.body["orders"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let otn = app.pay("bob", &id).await;
    // The notification goes notify route → SQS → the runner's poller → pay-callback.
    let done = app.provider_says(&otn, "TRADE_SUCCESS").await;
    assert_eq!(done.body["payment_status"], "succeeded", "{done:?}");
    assert_eq!(
        app.get(&format!("/orders/{id}"), Some("bob")).await.body["status"],
        "completed"
    );
    assert_eq!(
        app.get("/me/ledger", Some("alice")).await.body["balances"]["frozen"],
        "39.60"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn withdraw_racing_accept_on_dynamodb_ends_each_push_one_way() {
    let app = Arc::new(spawn_app_on_dynamo().await);
    alice_and_bob(&app).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let domain = format!("dynrace{i}.com");
        app.domain(&domain, "alice").await;
        let push = app
            .post("/pushes", Some("alice"), serde_json::json!({ "domains": [domain], "buyer": "bob", "price": "10.00", "lock_60d": false }))
            .await;
        ids.push(push.body["id"].as_str().unwrap().to_owned());
    }
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (a, b) = (app.clone(), app.clone());
            let (w, c) = (
                format!("/pushes/{id}/withdraw"),
                format!("/pushes/{id}/accept"),
            );
            tokio::spawn(async move {
                let (withdraw, accept) = tokio::join!(
                    a.post(&w, Some("alice"), serde_json::json!({})),
                    b.post(
                        &c,
                        Some("bob"),
                        serde_json::json!({ "captcha_token": "pass" })
                    )
                );
                (withdraw.status, accept.status)
            })
        })
        .collect();
    for (task, id) in tasks.into_iter().zip(&ids) {
        let (withdraw, accept) = task.await.unwrap();
        assert!(
            (withdraw == 200) ^ (accept == 200),
            "{id}: withdraw {withdraw}, accept {accept}"
        );
        let status = app.get(&format!("/pushes/{id}"), Some("alice")).await.body["status"].clone();
        assert_eq!(
            status,
            if withdraw == 200 {
                "withdrawn"
            } else {
                "accepted"
            }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_abandoned_cart_never_wedges_the_sweeper_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    a_large_abandoned_cart_ends_and_the_sweeper_lives_on(&app).await;
}

#[tokio::test]
async fn min_price_above_max_price_is_invalid_query_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    a_contradictory_price_range_is_invalid_query(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s6_a_seller_pays_out_sixty_percent_then_the_rest_on_dynamodb() {
    s6_a_seller_pays_out_sixty_percent_then_the_rest(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s6_concurrent_payouts_cannot_overdraw_on_dynamodb() {
    s6_concurrent_payouts_of_the_whole_balance_cannot_overdraw(
        Arc::new(spawn_app_on_dynamo().await),
        8,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o8_credit_paid_orders_are_refunded_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    o8_credit_paid_orders_are_refunded_and_the_balance_then_pays(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o8_credit_paid_pushes_are_refunded_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    o8_credit_paid_pushes_are_refunded_and_the_balance_then_pays(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o6_a_push_refresh_finds_a_lost_payment_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    o6_push_refresh_finds_lost_payments(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o6_refreshes_are_rate_limited_on_dynamodb() {
    let app = app_with_refresh_limit(true).await;
    o6_refreshes_are_rate_limited_per_account(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s6_a_lost_transfer_answer_is_looked_up_and_paid_once_on_dynamodb() {
    s6_a_transfer_whose_answer_is_lost_is_looked_up_and_paid_once(&spawn_app_on_dynamo().await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s6_a_refused_transfer_returns_the_money_on_dynamodb() {
    s6_a_refused_transfer_returns_the_money_with_the_reason(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_s6_no_payout_while_a_debt_is_open_on_dynamodb() {
    s4_s6_no_payout_while_a_debt_is_open(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p12_set_change_publish_and_accept_on_dynamodb() {
    p12_set_change_publish_and_accept(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p12_a_retried_publication_replays_and_counts_no_try_on_dynamodb() {
    p12_a_retried_publication_replays_without_a_new_try(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p12_five_wrong_lock_the_account_until_fifteen_minutes_pass_on_dynamodb() {
    p12_five_wrong_lock_even_the_right_one_for_fifteen_minutes(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p12_twenty_racing_wrong_tries_check_exactly_five_on_dynamodb() {
    p12_racing_wrong_tries_are_counted_exactly(Arc::new(spawn_app_on_dynamo().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p12_policy_required_refuses_an_account_without_a_password_on_dynamodb() {
    p12_required_refuses_an_account_without_one(&app_requiring_security(true).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p11_no_transfer_out_during_a_pending_push_on_dynamodb() {
    crate::api::registrar::p11_no_transfer_out_during_a_pending_push(&spawn_app_on_dynamo().await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p11_no_transfer_out_during_an_orders_payment_window_on_dynamodb() {
    crate::api::registrar::p11_no_transfer_out_during_an_orders_payment_window(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p9_no_transfer_out_59_days_after_a_forced_change_and_free_after_61_on_dynamodb() {
    crate::api::registrar::p9_no_transfer_out_59_days_after_a_forced_change_and_free_after_61(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p9_p11_a_lock_change_is_published_exactly_once_through_failures_on_dynamodb() {
    crate::api::registrar::p9_p11_a_lock_change_is_published_exactly_once_through_failures(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o9_contact_templates_are_set_by_operators_and_listed_on_dynamodb() {
    crate::api::contacts::o9_contact_templates_are_set_by_operators_and_listed(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o9_an_order_with_an_unknown_or_unverified_contact_is_refused_on_dynamodb() {
    crate::api::contacts::o9_an_order_with_an_unknown_or_unverified_contact_is_refused(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o9_a_delivered_sale_publishes_one_registrant_change_with_the_buyers_contact_on_dynamodb() {
    crate::api::contacts::o9_a_delivered_sale_publishes_one_registrant_change_with_the_buyers_contact(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn o9_p9_a_forced_push_change_publishes_forced_with_the_lock_on_dynamodb() {
    crate::api::contacts::o9_p9_a_forced_push_change_publishes_forced_with_the_lock(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m4_more_applicants_than_slots_on_dynamodb() {
    crate::api::placements::m4_more_applicants_than_slots_win_by_sales_volume_then_application_time(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m4_a_period_start_moves_over_a_weekend_and_a_holiday_on_dynamodb() {
    crate::api::placements::m4_a_period_start_moves_over_a_weekend_and_a_holiday(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s5_an_increase_announced_mid_month_waits_on_dynamodb() {
    crate::api::fee_notice::s5_an_increase_announced_mid_month_waits_for_the_first_working_day_of_next_month(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s5_a_reduction_takes_effect_at_once_on_dynamodb() {
    crate::api::fee_notice::s5_a_reduction_takes_effect_at_once(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n1_every_push_step_tells_the_right_people_once_on_dynamodb() {
    crate::api::notifications::n1_every_push_step_tells_the_right_people_once(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n1_the_inbox_is_paged_filtered_and_marked_read_on_dynamodb() {
    crate::api::notifications::n1_the_inbox_is_paged_filtered_and_marked_read(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n1_an_order_tells_the_buyer_and_each_seller_of_their_domains_on_dynamodb() {
    crate::api::notifications::n1_an_order_tells_the_buyer_and_each_seller_of_their_domains(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n1_a_mail_server_failing_three_times_sends_once_on_dynamodb() {
    crate::api::notifications::n1_a_mail_server_failing_three_times_sends_once(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n1_trades_complete_while_email_is_down_on_dynamodb() {
    crate::api::notifications::n1_trades_complete_while_email_is_down(&spawn_app_on_dynamo().await)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn n1_a_dead_lettered_notice_is_redriven_by_an_operator_on_dynamodb() {
    crate::api::notifications::n1_a_dead_lettered_notice_is_redriven_by_an_operator(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_the_public_never_sees_the_takedown_reason_and_one_appeal_on_dynamodb() {
    m3_the_seller_reads_the_reason_the_public_never_does(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_a_payout_goes_only_to_the_verified_settlement_account_on_dynamodb() {
    s4_a_payout_goes_to_the_verified_settlement_account(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m3_a_restore_reactivates_the_listing_and_holds_its_domain_on_dynamodb() {
    m3_a_restore_reactivates_the_listing_and_holds_its_domain(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l10_partner_listings_end_to_end_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    crate::api::partners::l10_feed_browse_balance_order_delivered(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l10_the_balance_never_goes_negative_on_dynamodb() {
    let app = spawn_app_on_dynamo().await;
    crate::api::partners::l10_the_balance_never_goes_negative_under_concurrent_orders(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m1_listing_needs_the_deposit_and_one_is_held_once_on_dynamodb() {
    crate::api::deposits::m1_listing_needs_the_deposit_and_one_is_held_once_however_often_notified(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m1_an_unpaid_deposit_expires_and_a_late_payment_is_refunded_on_dynamodb() {
    crate::api::deposits::m1_an_unpaid_deposit_expires_and_a_late_payment_is_refunded(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m1_forfeits_are_ledger_entries_never_exceeding_what_is_held_on_dynamodb() {
    crate::api::deposits::m1_forfeits_are_ledger_entries_never_exceeding_what_is_held(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m2_exit_is_refused_with_every_reason_until_none_remains_on_dynamodb() {
    crate::api::exit::m2_exit_is_refused_with_every_reason_until_none_remains(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m2_windows_of_the_19th_20th_and_31st_across_holidays_on_dynamodb() {
    crate::api::exit::m2_windows_of_the_19th_20th_and_31st_across_holidays(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m2_m1_an_exit_refunds_deposits_less_forfeits_and_pays_out_on_dynamodb() {
    crate::api::exit::m2_m1_an_exit_refunds_deposits_less_forfeits_and_pays_out(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m2_an_exit_blocked_at_processing_records_why_then_goes_ahead_on_dynamodb() {
    crate::api::exit::m2_an_exit_blocked_at_processing_records_why_then_goes_ahead(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m1_one_deposit_notification_delivered_eight_times_at_once_is_held_once_on_dynamodb() {
    crate::api::deposits::m1_one_deposit_notification_delivered_eight_times_at_once_is_held_once(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m2_a_payout_in_flight_then_a_debt_block_the_exit_on_dynamodb() {
    crate::api::exit::m2_a_payout_in_flight_then_a_debt_block_the_exit(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l11_the_seller_converts_once_into_a_listing_checked_like_any_on_dynamodb() {
    crate::api::legacy::l11_the_seller_converts_once_into_a_listing_checked_like_any(
        &spawn_app_on_dynamo().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn l11_racing_conversions_make_one_listing_on_dynamodb() {
    crate::api::legacy::l11_racing_conversions_make_one_listing(&spawn_app_on_dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_two_accounts_binding_one_card_at_once_on_dynamodb() {
    crate::api::payment_methods::s3_two_accounts_binding_one_card_at_once(
        &spawn_app_on_dynamo().await,
    )
    .await;
}
