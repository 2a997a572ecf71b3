//! The in-app inbox (N1): every notice to an account, newest first (`GET
//! /me/notifications`, `unread` filter), and marking one read (`POST
//! /me/notifications/{id}/read`). An account's notices are kept sorted by their
//! time-ordered ids over [`shards::PERSON_LISTS`] partitions (by id: a seller selling
//! thousands of domains a second is told of each); the unread ones are also in sparse index
//! partitions of their own, so the unread filter reads only unread notices however many
//! read ones there are. The list merges the partitions.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::paging;
use crate::repo::{self, load, put};
use crate::retry::{retrying, written};
use crate::shards;
use crate::store::{Index, Item, Query};
use crate::views::PageView;
use crate::{App, AppResult};
use market_core::error::Problem;
use market_core::ids::AccountId;
use market_core::notice::NoticeKind;

/// One notice in an account's inbox, in the words of the account's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub account: AccountId,
    pub kind: NoticeKind,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub order_id: Option<String>,
    pub push_id: Option<String>,
    pub payout_id: Option<String>,
}

/// The partition of an account's notice `id`.
fn inbox_partition(account: &AccountId, id: &str) -> String {
    shards::shard_for(&format!("NOTE#{account}"), id, shards::PERSON_LISTS)
}

/// The index partition (gsi1) of an account's unread notice `id`.
fn unread_partition(account: &AccountId, id: &str) -> String {
    shards::shard_for(&format!("UNREAD#{account}"), id, shards::PERSON_LISTS)
}

/// The stored item of a notice: in the unread index until read.
pub fn notification_item(note: &Notification) -> Item {
    let mut item = Item::new(
        inbox_partition(&note.account, &note.id),
        note.id.clone(),
        serde_json::to_string(note).expect("notifications serialise"),
    );
    if note.read_at.is_none() {
        item = item.indexed(
            Index::Gsi1,
            unread_partition(&note.account, &note.id),
            note.id.clone(),
        );
    }
    item
}

/// Whether `id` can be a notice's id (`ntf_<ULID>_<n>`): anything else is not looked up.
pub fn valid_id(id: &str) -> bool {
    id.strip_prefix("ntf_").is_some_and(|rest| {
        rest.len() == 31
            && rest.as_bytes()[26] == b'_'
            && rest[..26]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            && rest[27..].bytes().all(|b| b.is_ascii_digit())
    })
}

/// A notice as `GET /me/notifications` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Notification)]
pub struct NotificationView {
    pub id: String,
    /// `push_published`, `push_accepted`, `push_rejected`, `push_withdrawn`, `push_expired`,
    /// `push_completed`, `order_completed`, `order_failed`, `refund_sent`,
    /// `payout_succeeded`, `payout_failed`.
    #[schema(value_type = String)]
    pub kind: NoticeKind,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// When it was marked read; null while unread.
    #[schema(required = true)]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_id: Option<String>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            subject: n.subject,
            body: n.body,
            created_at: n.created_at,
            read_at: n.read_at,
            order_id: n.order_id,
            push_id: n.push_id,
            payout_id: n.payout_id,
        }
    }
}

/// `GET /me/notifications`: the caller's notices, newest first; `unread: Some(true)` only
/// the unread, `Some(false)` only the read ones.
pub async fn list(
    app: &App,
    account: &AccountId,
    unread: Option<bool>,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<NotificationView>> {
    let queries = match unread {
        Some(true) => shards::all(&format!("UNREAD#{account}"), shards::PERSON_LISTS)
            .map(|partition| Query::index(Index::Gsi1, partition))
            .collect::<Vec<_>>(),
        _ => shards::all(&format!("NOTE#{account}"), shards::PERSON_LISTS)
            .map(Query::table)
            .collect(),
    };
    let queries = queries
        .into_iter()
        .map(|query| Query {
            forward: false,
            ..query
        })
        .collect();
    let only_read = unread == Some(false);
    paging::merged(
        app,
        queries,
        (limit, only_read, true),
        |item| {
            let note = repo::decode::<Notification>(item)?.value;
            Ok((!only_read || note.read_at.is_some()).then(|| note.into()))
        },
        cursor.as_deref(),
    )
    .await
}

/// `POST /me/notifications/{id}/read`: marks the caller's notice read (again: no change).
pub async fn mark_read(app: &App, account: &AccountId, id: &str) -> AppResult<NotificationView> {
    if !valid_id(id) {
        return Err(Problem::not_found("notification").into());
    }
    retrying(app, || async {
        let read = load::<Notification>(&*app.store, (inbox_partition(account, id), id.to_owned()))
            .await?
            .ok_or_else(|| Problem::not_found("notification"))?;
        if read.value.read_at.is_some() {
            return Ok(read.value.clone().into());
        }
        let mut next = read.value.clone();
        next.read_at = Some(app.now());
        written(
            app.transact(vec![put(notification_item(&next), Some(&read))])
                .await,
        )?;
        Ok(next.into())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_notice_ids_are_looked_up() {
        assert!(valid_id("ntf_01jd0000000000000000000000_0007"));
        assert!(!valid_id("ntf_01jd0000000000000000000000_007"));
        assert!(!valid_id("ntf_01JD0000000000000000000000_0007"));
        assert!(!valid_id("../etc"));
        assert!(!valid_id(""));
    }
}
