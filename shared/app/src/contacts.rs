//! O9: registrant contact templates of accounts (set by operators, `PUT
//! /admin/accounts/{id}/contacts/{contact_id}`; listed at `GET /me/contacts`) and the choice
//! of the contact a buyer's domains change registrant with.
use serde::Serialize;

use crate::repo::{self, contact_item, load, put, Versioned};
use crate::retry::{retrying, written};
use crate::store::{Expect, Item, Query, Write};
use crate::views::PageView;
use crate::{App, AppResult};
use market_core::error::{Code, Problem};
use market_core::ids::AccountId;
use market_core::model::{Account, Contact, RegistrantContact};

/// A contact template as shown (`GET /me/contacts`, `PUT /admin/accounts/{id}/contacts/{contact_id}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Contact)]
pub struct ContactView {
    /// The template's id (`[A-Za-z0-9_-]{1,64}`, unique within the account).
    pub id: String,
    pub name: String,
    #[schema(required = true)]
    pub organisation: Option<String>,
    pub email: String,
    pub phone: String,
    pub address: String,
    /// The country (ISO 3166-1 alpha-2 by convention).
    pub country: String,
    /// Only a verified template can be chosen (O9).
    pub verified: bool,
    /// The account's default template (at most one is).
    pub default: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        ContactView {
            id: c.details.id.clone(),
            name: c.details.name.clone(),
            organisation: c.details.organisation.clone(),
            email: c.details.email.clone(),
            phone: c.details.phone.clone(),
            address: c.details.address.clone(),
            country: c.details.country.clone(),
            verified: c.verified,
            default: c.default,
            updated_at: c.updated_at,
        }
    }
}

/// Whether `id` is a contact template id: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_contact_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Every contact template of `account` (few: operators set them), with their versions.
async fn all_of(app: &App, account: &AccountId) -> AppResult<Vec<Versioned<Contact>>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let mut query = Query::table(repo::contacts_partition(account));
        query.after = after;
        let page = app.store.query(query).await?;
        for item in &page.items {
            out.push(repo::decode::<Contact>(item)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

/// `PUT /admin/accounts/{id}/contacts/{contact_id}`: creates or replaces a template of an
/// existing account; `default: true` makes it the account's default, clearing the previous
/// default in the same transaction.
pub async fn put_contact(
    app: &App,
    account: &AccountId,
    details: RegistrantContact,
    verified: bool,
    default: bool,
) -> AppResult<ContactView> {
    if !valid_contact_id(&details.id) {
        return Err(Problem::new(
            Code::InvalidRequest,
            "contact_id must be 1 to 64 of A-Z, a-z, 0-9, _ and -",
        )
        .into());
    }
    retrying(app, || async {
        let owner: Option<Versioned<Account>> =
            load(&*app.store, repo::account_key(account)).await?;
        if owner.is_none() {
            return Err(Problem::not_found("account").into());
        }
        let existing = all_of(app, account).await?;
        let old = existing.iter().find(|c| c.value.details.id == details.id);
        let contact = Contact {
            account: account.clone(),
            details: details.clone(),
            verified,
            default,
            updated_at: app.now(),
        };
        let mut writes = vec![put(contact_item(&contact), old)];
        if default {
            for other in existing
                .iter()
                .filter(|c| c.value.default && c.value.details.id != details.id)
            {
                let mut cleared = other.value.clone();
                cleared.default = false;
                writes.push(put(contact_item(&cleared), Some(other)));
            }
        }
        // The verified default after this change, copied where an order reads it.
        let default_after = if default {
            verified.then(|| details.clone())
        } else {
            existing
                .iter()
                .filter(|c| c.value.details.id != details.id)
                .find(|c| c.value.default && c.value.verified)
                .map(|c| c.value.details.clone())
        };
        let pointer_key = repo::default_contact_key(account);
        let pointer = app.store.get(&pointer_key.0, &pointer_key.1).await?;
        writes.push(default_pointer(account, &default_after, pointer.as_ref()));
        written(app.transact(writes).await)?;
        Ok(ContactView::from(&contact))
    })
    .await
}

/// `GET /me/contacts`: a page of the caller's contact templates, by id.
pub async fn list(
    app: &App,
    account: &AccountId,
    limit: usize,
    cursor: Option<String>,
) -> AppResult<PageView<ContactView>> {
    let mut query = Query::table(repo::contacts_partition(account));
    query.limit = limit;
    query.after = cursor;
    let page = app.store.query(query).await?;
    let items = page
        .items
        .iter()
        .map(|i| repo::decode::<Contact>(i).map(|c| ContactView::from(&c.value)))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(PageView {
        items,
        next_cursor: page.next,
    })
}

/// O9, as an order reads it (issue 15): the key whose item is the contact asked for, or the
/// account's verified default when none is; read with the order's other keys, then given to
/// [`chosen`]. A malformed id is refused as an unknown one.
pub fn key_to_read(account: &AccountId, contact_id: Option<&str>) -> AppResult<(String, String)> {
    match contact_id {
        Some(id) if !valid_contact_id(id) => Err(not_verified("no such contact template").into()),
        Some(id) => Ok(repo::contact_key(account, id)),
        None => Ok(repo::default_contact_key(account)),
    }
}

/// The write that sets the account's default-contact item (`null`: no verified default),
/// expecting it as read (`current`).
pub(crate) fn default_pointer(
    account: &AccountId,
    default: &Option<RegistrantContact>,
    current: Option<&Item>,
) -> Write {
    let (pk, sk) = repo::default_contact_key(account);
    let expect = current.map_or(Expect::Absent, |p| Expect::Version(p.version));
    Write::Put(Item::new(pk, sk, repo::body(default)), expect)
}

/// [`choose`] over the item read at [`key_to_read`]'s key. An account whose templates
/// were saved before the default-contact item existed has none: its templates are read
/// once and the item written, so its next orders read it by key.
pub async fn chosen(
    app: &App,
    account: &AccountId,
    contact_id: Option<&str>,
    found: Option<&Item>,
) -> AppResult<Option<RegistrantContact>> {
    match (contact_id, found) {
        (Some(_), None) => Err(not_verified("no such contact template").into()),
        (Some(_), Some(item)) => {
            let contact: Versioned<Contact> = repo::decode(item)?;
            if !contact.value.verified {
                return Err(not_verified("the contact template is not verified").into());
            }
            Ok(Some(contact.value.details))
        }
        (None, Some(item)) => Ok(repo::decode::<Option<RegistrantContact>>(item)?.value),
        (None, None) => {
            let default = all_of(app, account)
                .await?
                .into_iter()
                .find(|c| c.value.default && c.value.verified)
                .map(|c| c.value.details);
            // Best effort: a concurrent change of the templates writes it too.
            let pointer = default_pointer(account, &default, None);
            if let Err(e) = app.transact(vec![pointer]).await {
                tracing::debug!(%account, error = %e, "default contact item not written");
            }
            Ok(default)
        }
    }
}

fn not_verified(detail: &str) -> Problem {
    Problem::new(Code::ContactNotVerified, detail.to_owned())
}

/// O9: the registrant contact a buyer's domains change hands with: the template asked for
/// (unknown or unverified: 422 CONTACT_NOT_VERIFIED), else the account's verified default
/// template, else `None` (the account's verified identity).
pub async fn choose(
    app: &App,
    account: &AccountId,
    contact_id: Option<&str>,
) -> AppResult<Option<RegistrantContact>> {
    match contact_id {
        Some(id) => {
            if !valid_contact_id(id) {
                return Err(not_verified("no such contact template").into());
            }
            let found: Option<Versioned<Contact>> =
                load(&*app.store, repo::contact_key(account, id)).await?;
            match found {
                None => Err(not_verified("no such contact template").into()),
                Some(c) if !c.value.verified => {
                    Err(not_verified("the contact template is not verified").into())
                }
                Some(c) => Ok(Some(c.value.details)),
            }
        }
        None => {
            let (pk, sk) = repo::default_contact_key(account);
            chosen(app, account, None, app.store.get(&pk, &sk).await?.as_ref()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn o9_contact_ids() {
        assert!(valid_contact_id("home_1-a"));
        assert!(!valid_contact_id(""));
        assert!(!valid_contact_id("a b"));
        assert!(!valid_contact_id(&"x".repeat(65)));
    }
}
