//! The DynamoDB adapter: one table (see [`schema`]), conditions on the version attribute,
//! `TransactWriteItems` with cancellation reasons mapped back to the writes that failed.
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put, ReturnValue,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use base64::Engine;
use std::collections::{BTreeMap, HashMap};

use super::schema::{index_keys, BODY, PK, SK, SUM, TTL, VERSION};
use market_app::store::{
    sent_as_transaction, validate_transaction, Expect, Index, Item, Page, Query, SkRange, Store,
    StoreError, Write,
};

/// The DynamoDB store over one table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

type Attrs = HashMap<String, AttributeValue>;

impl DynamoStore {
    /// One BatchGetItem of at most 100 keys; unprocessed keys are asked for again.
    async fn get_chunk(&self, chunk: &[(String, String)]) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::with_capacity(chunk.len());
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(chunk.iter().map(|(p, s)| key_attrs(p, s)).collect()))
            .consistent_read(true)
            .build()
            .map_err(other)?;
        loop {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, pending)
                .send()
                .await
                .map_err(|e| sdk(e, "BatchGetItem"))?;
            for attrs in out
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                items.push(from_attrs(&attrs)?);
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(rest) if !rest.keys.is_empty() => pending = rest,
                _ => return Ok(items),
            }
        }
    }

    /// One write as a conditional `PutItem` or `DeleteItem`: what a one-action transaction
    /// means, at half its units, answered alike (`one_write_answer`).
    async fn write_one(&self, write: &Write) -> Result<(), StoreError> {
        let (expr, values) = condition(write.expect());
        match write {
            Write::Put(item, expect) => {
                let sent = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(to_attrs(item, next_version(*expect))))
                    .set_condition_expression(expr)
                    .set_expression_attribute_values(values)
                    .send()
                    .await;
                one_write_answer(sent.map(|_| ()), "PutItem")
            }
            Write::Delete { pk, sk, .. } => {
                let sent = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(pk, sk)))
                    .set_condition_expression(expr)
                    .set_expression_attribute_values(values)
                    .send()
                    .await;
                one_write_answer(sent.map(|_| ()), "DeleteItem")
            }
            Write::Check { .. } | Write::Add { .. } => Err(StoreError::Other(anyhow::anyhow!(
                "a lone condition check or add is sent as a transaction"
            ))),
        }
    }

    /// One GetItem, strongly or eventually consistent.
    async fn get_item(
        &self,
        pk: &str,
        sk: &str,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(pk, sk)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| sdk(e, "GetItem"))?;
        out.item.as_ref().map(from_attrs).transpose()
    }

    /// A store over `table`, through an already configured client (built once per process).
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// Creates the table with its indexes and TTL if it does not exist (local runs and tests;
    /// in the cloud the template creates it).
    pub async fn ensure_table(&self) -> anyhow::Result<()> {
        let s = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
        };
        let mut create = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(s(PK)?)
            .attribute_definitions(s(SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?);
        for index in Index::ALL {
            let (ipk, isk) = index_keys(index);
            create = create
                .attribute_definitions(s(&ipk)?)
                .attribute_definitions(s(&isk)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index.name())
                        .key_schema(key(&ipk, KeyType::Hash)?)
                        .key_schema(key(&isk, KeyType::Range)?)
                        .projection(
                            Projection::builder()
                                .projection_type(if index.keys_only() {
                                    ProjectionType::KeysOnly
                                } else {
                                    ProjectionType::All
                                })
                                .build(),
                        )
                        .build()?,
                );
        }
        match create.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                return Ok(())
            }
            Err(e) => {
                return Err(anyhow::Error::new(e.into_service_error()).context("creating the table"))
            }
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| anyhow::Error::new(e.into_service_error()).context("enabling TTL"))?;
        Ok(())
    }
}

/// A one-action write's answer as the same write sent as a transaction would have been
/// told: a failed condition is a conflict at position 0; an item a transaction is writing
/// right now, a lost race.
fn one_write_answer<E, R>(sent: Result<(), SdkError<E, R>>, what: &str) -> Result<(), StoreError>
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let Err(e) = sent else {
        return Ok(());
    };
    match e.as_service_error().and_then(|s| s.meta().code()) {
        Some("ConditionalCheckFailedException") => Err(StoreError::Conflict { failed: vec![0] }),
        Some("TransactionConflictException") => Err(StoreError::Conflict { failed: vec![] }),
        _ => Err(sdk(e, what)),
    }
}

fn other<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    StoreError::Other(anyhow::Error::new(e))
}

fn sdk<E, R>(e: SdkError<E, R>, what: &str) -> StoreError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match e.as_service_error() {
        Some(service) => service_error(service.meta(), what),
        None => StoreError::Other(anyhow::anyhow!(
            "DynamoDB {what}: {}",
            aws_sdk_dynamodb::error::DisplayErrorContext(&e)
        )),
    }
}

/// DynamoDB's answers that mean "not now": throttling, or a transaction already writing
/// the item. Nothing was written; the caller may try again shortly.
const BUSY_CODES: [&str; 5] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "TransactionConflictException",
];

/// A service error as a store error, with DynamoDB's own code and message (what an
/// operator needs to act on it; the SDK's Display alone says "unhandled error").
fn service_error(meta: &aws_sdk_dynamodb::error::ErrorMetadata, what: &str) -> StoreError {
    let code = meta.code().unwrap_or("Unknown");
    let message = meta.message().unwrap_or("");
    if BUSY_CODES.contains(&code) {
        return StoreError::Busy(format!("DynamoDB {what}: {code}: {message}"));
    }
    StoreError::Other(anyhow::anyhow!("DynamoDB {what}: {code}: {message}"))
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn key_attrs(pk: &str, sk: &str) -> Attrs {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn to_attrs(item: &Item, version: u64) -> Attrs {
    let mut attrs = key_attrs(&item.pk, &item.sk);
    attrs.insert(VERSION.into(), AttributeValue::N(version.to_string()));
    attrs.insert(BODY.into(), s(&item.body));
    if let Some(ttl) = item.ttl {
        attrs.insert(TTL.into(), AttributeValue::N(ttl.to_string()));
    }
    for (index, (ipk, isk)) in &item.indexes {
        let (pk_name, sk_name) = index_keys(*index);
        attrs.insert(pk_name, s(ipk));
        attrs.insert(sk_name, s(isk));
    }
    attrs
}

fn text(attrs: &Attrs, name: &str) -> Result<String, StoreError> {
    match attrs.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Other(anyhow::anyhow!("item without {name}"))),
    }
}

fn number(attrs: &Attrs, name: &str) -> Option<i64> {
    match attrs.get(name) {
        // moto may return numbers as written ("1.0"): compare values, not strings.
        Some(AttributeValue::N(v)) => v.parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

fn from_attrs(attrs: &Attrs) -> Result<Item, StoreError> {
    let mut indexes = BTreeMap::new();
    for index in Index::ALL {
        let (pk_name, sk_name) = index_keys(index);
        if let (Ok(ipk), Ok(isk)) = (text(attrs, &pk_name), text(attrs, &sk_name)) {
            indexes.insert(index, (ipk, isk));
        }
    }
    Ok(Item {
        pk: text(attrs, PK)?,
        sk: text(attrs, SK)?,
        version: number(attrs, VERSION).unwrap_or(0) as u64,
        indexes,
        ttl: number(attrs, TTL),
        // A running sum's body is its sum; an entry of a keys-only index has no body.
        body: match (attrs.get(SUM), attrs.contains_key(BODY)) {
            (Some(AttributeValue::N(sum)), _) => sum.clone(),
            (_, true) => text(attrs, BODY)?,
            _ => String::new(),
        },
    })
}

/// The condition expression and values for an expectation (`None`: no condition).
fn condition(expect: Option<Expect>) -> (Option<String>, Option<Attrs>) {
    match expect {
        None | Some(Expect::Any) => (None, None),
        Some(Expect::Absent) => (Some(format!("attribute_not_exists({PK})")), None),
        Some(Expect::Version(v)) => (
            Some(format!("{VERSION} = :expected")),
            Some(HashMap::from([(
                ":expected".to_owned(),
                AttributeValue::N(v.to_string()),
            )])),
        ),
    }
}

fn next_version(expect: Expect) -> u64 {
    match expect {
        Expect::Absent | Expect::Any => 1,
        Expect::Version(v) => v + 1,
    }
}

fn transact_item(table: &str, write: &Write) -> Result<TransactWriteItem, StoreError> {
    let (expr, values) = condition(write.expect());
    let item = match write {
        Write::Put(item, expect) => TransactWriteItem::builder().put(
            Put::builder()
                .table_name(table)
                .set_item(Some(to_attrs(item, next_version(*expect))))
                .set_condition_expression(expr)
                .set_expression_attribute_values(values)
                .build()
                .map_err(other)?,
        ),
        Write::Delete { pk, sk, .. } => TransactWriteItem::builder().delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(key_attrs(pk, sk)))
                .set_condition_expression(expr)
                .set_expression_attribute_values(values)
                .build()
                .map_err(other)?,
        ),
        Write::Check { pk, sk, .. } => TransactWriteItem::builder().condition_check(
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key_attrs(pk, sk)))
                .set_condition_expression(expr)
                .set_expression_attribute_values(values)
                .build()
                .map_err(other)?,
        ),
        // The sum is a number attribute (DynamoDB adds numbers only); read back as the body.
        Write::Add { pk, sk, by } => TransactWriteItem::builder().update(
            Update::builder()
                .table_name(table)
                .set_key(Some(key_attrs(pk, sk)))
                .update_expression("ADD #sum :by, #ver :one")
                .set_expression_attribute_names(Some(HashMap::from([
                    ("#sum".to_owned(), SUM.to_owned()),
                    ("#ver".to_owned(), VERSION.to_owned()),
                ])))
                .set_expression_attribute_values(Some(HashMap::from([
                    (":by".to_owned(), AttributeValue::N(by.to_string())),
                    (":one".to_owned(), AttributeValue::N("1".to_owned())),
                ])))
                .build()
                .map_err(other)?,
        ),
    };
    Ok(item.build())
}

/// A page of a Query or Scan answer, with the cursor of the next.
fn page_of(items: &[Attrs], last: Option<&Attrs>) -> Result<Page, StoreError> {
    Ok(Page {
        items: items
            .iter()
            .map(from_attrs)
            .collect::<Result<Vec<_>, _>>()?,
        next: last.map(encode_cursor).transpose()?,
    })
}

/// A Query or Scan refused: a cursor DynamoDB cannot take is the caller's bad cursor.
fn paging_error<E, R>(
    e: aws_sdk_dynamodb::error::SdkError<E, R>,
    had_cursor: bool,
    op: &str,
) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let bad_cursor = e
        .as_service_error()
        .is_some_and(|s| s.meta().code() == Some("ValidationException"));
    if bad_cursor && had_cursor {
        StoreError::BadCursor
    } else {
        sdk(e, op)
    }
}

fn encode_cursor(key: &Attrs) -> Result<String, StoreError> {
    let mut plain = BTreeMap::new();
    for (name, value) in key {
        if let AttributeValue::S(v) = value {
            plain.insert(name.clone(), v.clone());
        }
    }
    let json = serde_json::to_vec(&plain).map_err(other)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

fn decode_cursor(cursor: &str) -> Result<Attrs, StoreError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::BadCursor)?;
    let plain: BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.get_item(pk, sk, true).await
    }

    async fn get_eventually(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.get_item(pk, sk, false).await
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Item>, StoreError> {
        // BatchGetItem takes at most 100 keys: the chunks go out at once, one wave of
        // round trips however many keys (issue 15).
        let chunks = futures::future::try_join_all(keys.chunks(100).map(|c| self.get_chunk(c)));
        Ok(chunks.await?.into_iter().flatten().collect())
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        if !sent_as_transaction(&writes) {
            return self.write_one(&writes[0]).await;
        }
        let actions = writes
            .iter()
            .map(|w| transact_item(&self.table, w))
            .collect::<Result<Vec<_>, _>>()?;
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let Some(_) = e.as_service_error() else {
                    return Err(sdk(e, "TransactWriteItems"));
                };
                let service = e.into_service_error();
                if let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) = &service {
                    let reasons = c.cancellation_reasons();
                    let failed: Vec<usize> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| i)
                        .collect();
                    let lost_race = reasons.iter().any(|r| r.code() == Some("TransactionConflict"));
                    if !failed.is_empty() || lost_race {
                        return Err(StoreError::Conflict { failed });
                    }
                    let codes: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
                    if codes.iter().all(|c| *c == "None" || BUSY_CODES.contains(c) || *c == "ThrottlingError") {
                        return Err(StoreError::Busy(format!("TransactWriteItems cancelled: {codes:?}")));
                    }
                }
                Err(service_error(service.meta(), "TransactWriteItems"))
            }
        }
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let (pk_name, sk_name) = match query.index {
            Some(index) => index_keys(index),
            None => (PK.to_owned(), SK.to_owned()),
        };
        let mut values: Attrs = HashMap::from([(":pk".to_owned(), s(&query.pk))]);
        let mut expr = "#pk = :pk".to_owned();
        match &query.range {
            SkRange::All => {}
            SkRange::Prefix(p) => {
                expr.push_str(" AND begins_with(#sk, :p)");
                values.insert(":p".into(), s(p));
            }
            SkRange::Between(lo, hi) => {
                expr.push_str(" AND #sk BETWEEN :lo AND :hi");
                values.insert(":lo".into(), s(lo));
                values.insert(":hi".into(), s(hi));
            }
        }
        let mut names = HashMap::from([("#pk".to_owned(), pk_name)]);
        if query.range != SkRange::All {
            names.insert("#sk".to_owned(), sk_name);
        }
        let start = query.after.as_deref().map(decode_cursor).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(query.index.map(|i| i.name().to_owned()))
            .key_condition_expression(expr)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(query.forward)
            .limit(query.limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start)
            .consistent_read(query.index.is_none())
            .send()
            .await
            .map_err(|e| paging_error(e, query.after.is_some(), "Query"))?;
        page_of(out.items(), out.last_evaluated_key.as_ref())
    }
    async fn scan(
        &self,
        prefix: &str,
        limit: usize,
        cursor: Option<String>,
    ) -> Result<Page, StoreError> {
        let start = cursor.as_deref().map(decode_cursor).transpose()?;
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(#pk, :p)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":p", s(prefix))
            .limit(limit.clamp(1, 1000) as i32)
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| paging_error(e, cursor.is_some(), "Scan"))?;
        page_of(out.items(), out.last_evaluated_key.as_ref())
    }
    async fn increment(
        &self,
        pk: &str,
        sk: &str,
        ceiling: u64,
        ttl: Option<i64>,
    ) -> Result<Option<u64>, StoreError> {
        // The count is the version attribute: ADD makes it atomic, the condition the ceiling.
        let mut update = String::from("ADD #ver :one SET #body = if_not_exists(#body, :empty)");
        let mut values: Attrs = HashMap::from([
            (":one".to_owned(), AttributeValue::N("1".into())),
            (
                ":ceiling".to_owned(),
                AttributeValue::N(ceiling.to_string()),
            ),
            (":empty".to_owned(), s("")),
        ]);
        let mut names = HashMap::from([
            ("#ver".to_owned(), VERSION.to_owned()),
            ("#body".to_owned(), BODY.to_owned()),
        ]);
        if let Some(ttl) = ttl {
            update.push_str(", #ttl = :ttl");
            values.insert(":ttl".into(), AttributeValue::N(ttl.to_string()));
            names.insert("#ttl".into(), TTL.to_owned());
        }
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(pk, sk)))
            .update_expression(update)
            .condition_expression("attribute_not_exists(#ver) OR #ver < :ceiling")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(out) => Ok(Some(
                out.attributes
                    .as_ref()
                    .and_then(|a| number(a, VERSION))
                    .unwrap_or(1) as u64,
            )),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk(e, "UpdateItem")),
        }
    }

    fn cursor_after(&self, query: &Query, item: &Item) -> Result<String, StoreError> {
        cursor_after(query, item)
    }
}

/// The `ExclusiveStartKey` that continues `query` right after `item`, as a cursor. Needs no
/// client: the key is the item's table key plus, on an index, its index key.
pub fn cursor_after(query: &Query, item: &Item) -> Result<String, StoreError> {
    let mut key = key_attrs(&item.pk, &item.sk);
    if let Some(index) = query.index {
        let (ipk, isk) = item.indexes.get(&index).ok_or_else(|| {
            StoreError::Other(anyhow::anyhow!(
                "{}/{} is not in {}",
                item.pk,
                item.sk,
                index.name()
            ))
        })?;
        let (pk_name, sk_name) = index_keys(index);
        key.insert(pk_name, s(ipk));
        key.insert(sk_name, s(isk));
    }
    encode_cursor(&key)
}
