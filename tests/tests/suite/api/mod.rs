//! End-to-end tests over real HTTP against the marketplace started in-process (zero2prod
//! style). Rule ids from RULES.md name the tests.
mod contacts;
mod credit;
mod deposits;
mod exit;
mod fee_notice;
mod helpers;
mod idempotency;
mod identity;
mod late_sweep;
mod limits;
mod listings;
mod nothing_wedges;
mod on_alipay_gateway;
mod on_dynamodb;
mod orders;
mod payments;
mod payouts;
mod placements;
mod pushes;
mod race;
mod refresh;
mod registrar;
mod restart;
mod sale;
mod security;
