//! The search contract (Q1): one fixture of listings and one table of queries with the
//! hits each must give, run on both engines behind the search port: Tantivy (embedded) and
//! the OpenSearch adapter against a stand-in domain that checks its requests and answers as
//! OpenSearch does (`market_tests::opensearch`). The same query means the same thing on
//! both, down to the order of the hits and the facet counts.
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use market_adapters::search::embedded::EmbeddedSearch;
use market_adapters::search::opensearch::{OpenSearchConfig, OpenSearchIndex};
use market_app::ports::search::{SearchChange, SearchError, SearchIndex};
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, ListingId};
use market_core::model::{Listing, ListingStatus};
use market_core::money::Money;
use market_core::partner::PartnerRef;
use market_core::search::doc::SearchDoc;
use market_core::search::query::{SearchParams, SearchQuery};
use market_tests::opensearch as standin;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap()
}

/// The fixture: (domain, price, seller); the i-th listing is created i minutes after the
/// first, ends i+1 days from now and its domain expires 100+10i days from now, so every
/// sort has one answer.
const FIXTURE: &[(&str, &str, &str)] = &[
    ("xiaomi.com", "5000", "alice"),
    ("xiaomi.cn", "3000", "alice"),
    ("mi.com", "90000", "alice"),
    ("8888.com", "20000", "bob"),
    ("4444.net", "100", "bob"),
    ("a1b2.com", "50", "alice"),
    ("best-shop.com", "800", "alice"),
    ("例子.中国", "1200", "alice"),
    ("zhongguo.com", "7000", "bob"),
    ("woaini.com", "3333", "alice"),
    ("abc.com", "60000", "alice"),
    ("aaa.cn", "40000", "alice"),
    ("shop.net", "900", "alice"),
    ("myxiaomi.net", "150", "alice"),
    ("1688.com", "88888", "bob"),
    ("taobao.com", "9999", "partner-acme"),
    ("xiaomi-shop.com", "450", "alice"),
    // Ended by its time already (E1): found by nothing, though the sweep has not run.
    ("xiaomi.net", "1", "alice"),
];

fn listing(i: usize, domain: &str, price: &str, seller: &str) -> Listing {
    let created = now() - Duration::days(1) + Duration::minutes(i as i64);
    let ends_at = if domain == "xiaomi.net" {
        now() - Duration::seconds(1)
    } else {
        now() + Duration::days(i as i64 + 1)
    };
    Listing {
        id: ListingId::mint(ulid::Ulid::from_parts(
            created.timestamp_millis() as u64,
            i as u128,
        )),
        domain: DomainName::parse(domain).unwrap(),
        seller: AccountId::parse(seller).unwrap(),
        price: Money::parse(price).unwrap(),
        status: ListingStatus::Active,
        end_reason: None,
        buyable_at: created,
        ends_at,
        description: String::new(),
        created_at: created,
        updated_at: created,
        hold: None,
        sold_to: None,
        domain_expires_at: Some(now() + Duration::days(100 + 10 * i as i64)),
        first_price: None,
        takedown: None,
        partner: seller.starts_with("partner").then(|| PartnerRef {
            id: market_core::partner::PartnerId::parse("acme").unwrap(),
            name: "Acme".into(),
        }),
    }
}

fn fixture() -> Vec<Listing> {
    FIXTURE
        .iter()
        .enumerate()
        .map(|(i, (d, p, s))| listing(i, d, p, s))
        .collect()
}

fn puts(listings: &[Listing], version: u64) -> Vec<SearchChange> {
    listings
        .iter()
        .map(|l| SearchChange::Put(SearchDoc::of(l, version).unwrap()))
        .collect()
}

struct Engine {
    name: &'static str,
    index: Arc<dyn SearchIndex>,
    domain: Option<standin::Shared>,
}

async fn engines() -> Vec<Engine> {
    let (url, domain) = standin::start().await;
    let config = OpenSearchConfig {
        url,
        index: "listings".into(),
        sign: false,
    };
    let opensearch = OpenSearchIndex::new(&config, None).unwrap();
    opensearch.ensure_index().await.unwrap();
    opensearch.ensure_index().await.unwrap();
    vec![
        Engine {
            name: "tantivy",
            index: Arc::new(EmbeddedSearch::in_memory().unwrap()),
            domain: None,
        },
        Engine {
            name: "opensearch",
            index: Arc::new(opensearch),
            domain: Some(domain),
        },
    ]
}

async fn loaded() -> Vec<Engine> {
    let engines = engines().await;
    for e in &engines {
        e.index.apply(puts(&fixture(), 1)).await.unwrap();
    }
    engines
}

fn params(query: &str) -> SearchParams {
    SearchParams::from_query(query).expect("parameters GET /listings takes")
}

/// The domains a query finds, in order, and the total.
async fn found(engine: &Engine, query: &str) -> (Vec<String>, u64) {
    let q = SearchQuery::parse(&params(query)).unwrap();
    let hits = engine
        .index
        .search(&q.plan(now()))
        .await
        .unwrap_or_else(|e| panic!("{}: {query}: {e}", engine.name));
    let domains = hits
        .listings
        .iter()
        .map(|json| {
            let l: Listing = serde_json::from_str(json).unwrap();
            l.domain.unicode()
        })
        .collect();
    (domains, hits.total)
}

/// Every query and the hits it must give, in order.
const CASES: &[(&str, &[&str])] = &[
    // Relevance: the exact name first, then names that start with the word, then the rest.
    (
        "q=xiaomi",
        &["xiaomi.cn", "xiaomi.com", "xiaomi-shop.com", "myxiaomi.net"],
    ),
    (
        "q=xiaomi.com",
        &["xiaomi.com", "xiaomi.cn", "xiaomi-shop.com", "myxiaomi.net"],
    ),
    ("q=XIAOMI shop", &["xiaomi-shop.com"]),
    ("q=例子", &["例子.中国"]),
    ("q=xn--fsqu00a", &["例子.中国"]),
    ("q=zzz", &[]),
    (
        "tld=cn,net&sort=price",
        &[
            "4444.net",
            "myxiaomi.net",
            "shop.net",
            "xiaomi.cn",
            "aaa.cn",
        ],
    ),
    ("tld=中国", &["例子.中国"]),
    (
        "min_len=2&max_len=3&sort=length",
        &["例子.中国", "mi.com", "aaa.cn", "abc.com"],
    ),
    (
        "charset=digits&sort=price",
        &["4444.net", "8888.com", "1688.com"],
    ),
    (
        "charset=digits&excludes=4&sort=-price",
        &["1688.com", "8888.com"],
    ),
    (
        "charset=pinyin&syllables=2&sort=price",
        &["xiaomi.cn", "xiaomi.com", "zhongguo.com", "taobao.com"],
    ),
    ("charset=pinyin&syllables=3", &["woaini.com"]),
    ("charset=pinyin&syllables=1", &["mi.com"]),
    ("charset=alnum", &["a1b2.com"]),
    (
        "charset=hyphen&sort=price",
        &["xiaomi-shop.com", "best-shop.com"],
    ),
    ("charset=idn", &["例子.中国"]),
    (
        "starts_with=xiao&sort=price",
        &["xiaomi-shop.com", "xiaomi.cn", "xiaomi.com"],
    ),
    (
        "ends_with=mi&sort=price",
        &["myxiaomi.net", "xiaomi.cn", "xiaomi.com", "mi.com"],
    ),
    (
        "ends_with=shop&sort=price",
        &["xiaomi-shop.com", "best-shop.com", "shop.net"],
    ),
    ("contains=888", &["8888.com"]),
    ("contains=4", &["4444.net"]),
    ("starts_with=例", &["例子.中国"]),
    (
        "min_price=100&max_price=450&sort=price",
        &["4444.net", "myxiaomi.net", "xiaomi-shop.com"],
    ),
    ("source=partner", &["taobao.com"]),
    (
        "seller=bob&sort=price",
        &["4444.net", "zhongguo.com", "8888.com", "1688.com"],
    ),
    (
        "sort=newest&limit=3",
        &["xiaomi-shop.com", "taobao.com", "1688.com"],
    ),
    ("sort=ending_soon&limit=2", &["xiaomi.com", "xiaomi.cn"]),
    ("sort=expiry&limit=2", &["xiaomi.com", "xiaomi.cn"]),
    ("sort=-price&limit=2", &["mi.com", "1688.com"]),
    (
        "expires_before=2027-07-20&sort=expiry",
        &["xiaomi.com", "xiaomi.cn", "mi.com", "8888.com", "4444.net"],
    ),
    ("expires_after=2027-11-10&sort=expiry", &["xiaomi-shop.com"]),
    ("cursor=o2&limit=2&sort=-price", &["abc.com", "aaa.cn"]),
];

#[tokio::test]
async fn q1_every_query_finds_the_same_hits_on_both_engines() {
    let engines = loaded().await;
    for (query, expected) in CASES {
        for engine in &engines {
            let (domains, _) = found(engine, query).await;
            assert_eq!(domains, *expected, "{} {query}", engine.name);
        }
    }
}

#[tokio::test]
async fn q1_totals_and_facets_count_every_match_alike() {
    let engines = loaded().await;
    let q =
        SearchQuery::parse(&params("charset=digits&facets=tld,length,charset&limit=1")).unwrap();
    let mut answers = Vec::new();
    for engine in &engines {
        let hits = engine.index.search(&q.plan(now())).await.unwrap();
        assert_eq!(hits.total, 3, "{}", engine.name);
        assert_eq!(hits.listings.len(), 1);
        answers.push(hits.facets);
    }
    assert_eq!(answers[0], answers[1], "tantivy and opensearch");
    let facets = &answers[0];
    let get = |name: &str| {
        facets
            .iter()
            .find(|(f, _)| f.as_str() == name)
            .map(|(_, c)| c.clone())
            .unwrap()
    };
    assert_eq!(
        get("tld"),
        vec![("com".to_owned(), 2), ("net".to_owned(), 1)]
    );
    assert_eq!(get("length"), vec![("4".to_owned(), 3)]);
    assert_eq!(get("charset"), vec![("digits".to_owned(), 3)]);
    // The whole market: 17 live listings (the ended one is never counted, E1).
    let all = SearchQuery::parse(&params("facets=charset")).unwrap();
    for engine in &engines {
        let hits = engine.index.search(&all.plan(now())).await.unwrap();
        assert_eq!(hits.total, 17, "{}", engine.name);
        let pinyin = hits.facets[0]
            .1
            .iter()
            .find(|(v, _)| v == "pinyin")
            .unwrap()
            .1;
        assert_eq!(
            pinyin, 6,
            "{}: xiaomi ×2, mi, zhongguo, woaini, taobao",
            engine.name
        );
    }
}

#[tokio::test]
async fn q1_the_newest_version_wins_whatever_order_changes_arrive_in() {
    for engine in engines().await {
        let mut listing = fixture().remove(0);
        let v1 = listing.clone();
        listing.price = Money::parse("1").unwrap();
        let v2 = listing.clone();
        // A late, older put after the newer one changes nothing.
        engine
            .index
            .apply(puts(std::slice::from_ref(&v2), 2))
            .await
            .unwrap();
        engine
            .index
            .apply(puts(std::slice::from_ref(&v1), 1))
            .await
            .unwrap();
        let (_, total) = found(&engine, "max_price=1").await;
        assert_eq!(total, 1, "{}: version 2's price holds", engine.name);
        // Removed at version 3: a put of version 2 delivered again does not bring it back.
        engine
            .index
            .apply(vec![SearchChange::Remove {
                id: v2.id.to_string(),
                version: 3,
            }])
            .await
            .unwrap();
        engine.index.apply(puts(&[v2], 2)).await.unwrap();
        assert_eq!(found(&engine, "q=xiaomi").await.1, 0, "{}", engine.name);
        assert_eq!(engine.index.count().await.unwrap(), 0, "{}", engine.name);
        // A newer put after the removal is found again (relisted).
        engine.index.apply(puts(&[v1], 4)).await.unwrap();
        assert_eq!(found(&engine, "q=xiaomi").await.1, 1, "{}", engine.name);
    }
}

#[tokio::test]
async fn q1_the_opensearch_adapter_sends_a_strict_mapping_versioned_bulks_and_the_plan_as_dsl() {
    let engines = loaded().await;
    let domain = engines[1].domain.clone().unwrap();
    let _ = found(&engines[1], "q=xiaomi&tld=com&facets=tld").await;
    let received = domain.lock().unwrap().received.clone();
    let create = received.iter().find(|r| r.method == "PUT").unwrap();
    let mapping: serde_json::Value = serde_json::from_str(&create.body).unwrap();
    assert_eq!(mapping["mappings"]["dynamic"], "strict");
    assert_eq!(
        mapping["mappings"]["properties"]["grams"]["analyzer"],
        "whitespace"
    );
    assert_eq!(mapping["settings"]["index"]["refresh_interval"], "1s");
    assert_eq!(
        received.iter().filter(|r| r.method == "PUT").count(),
        1,
        "the second ensure_index found it"
    );
    let bulk = received
        .iter()
        .find(|r| r.path.ends_with("/_bulk"))
        .unwrap();
    assert_eq!(
        bulk.body.lines().count(),
        2 * FIXTURE.len(),
        "an action and a source each"
    );
    assert!(bulk.body.contains(r#""version_type":"external""#));
    let search = received
        .iter()
        .rev()
        .find(|r| r.path.ends_with("/_search"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&search.body).unwrap();
    assert_eq!(body["track_total_hits"], 10_001);
    assert_eq!(
        body["query"]["bool"]["filter"][1]["bool"]["should"][0]["match_phrase"]["grams"]["query"],
        "xi ia ao om mi"
    );
    assert_eq!(body["aggs"]["tld"]["terms"]["field"], "tld");
}

#[tokio::test]
async fn q1_a_throttled_domain_is_busy_not_a_failure() {
    let engines = loaded().await;
    let domain = engines[1].domain.clone().unwrap();
    domain.lock().unwrap().throttled = true;
    let q = SearchQuery::parse(&params("q=xiaomi")).unwrap();
    let refused = engines[1].index.search(&q.plan(now())).await.unwrap_err();
    assert!(matches!(refused, SearchError::Busy(_)), "{refused:?}");
    let refused = engines[1]
        .index
        .apply(puts(&fixture()[..1], 9))
        .await
        .unwrap_err();
    assert!(matches!(refused, SearchError::Busy(_)), "{refused:?}");
}

#[tokio::test]
async fn q1_an_index_not_closed_cleanly_is_stale_and_one_closed_cleanly_is_not() {
    let dir = std::env::temp_dir().join(format!("search-{}", ulid::Ulid::new()));
    let (search, stale) = EmbeddedSearch::open(&dir, 15_000_000).unwrap();
    assert!(stale, "created now: rebuilt from the store");
    search.apply(puts(&fixture(), 1)).await.unwrap();
    // Committed (the runner commits every second), then a crash: no clean close.
    search.commit_pending().unwrap();
    drop(search);
    let (search, stale) = EmbeddedSearch::open(&dir, 15_000_000).unwrap();
    assert!(stale, "not closed cleanly (a crash): rebuilt");
    assert_eq!(
        search.count().await.unwrap(),
        FIXTURE.len() as u64,
        "what was committed is kept"
    );
    search.mark_clean().unwrap();
    drop(search);
    let (search, stale) = EmbeddedSearch::open(&dir, 15_000_000).unwrap();
    assert!(!stale, "closed cleanly: opened as it is");
    search.mark_clean().unwrap();
    drop(search);
    // Written by another mapping (an older build): made anew, to be rebuilt.
    std::fs::write(dir.join("LAYOUT"), "market-search-0 id:Keyword").unwrap();
    let (search, stale) = EmbeddedSearch::open(&dir, 15_000_000).unwrap();
    assert!(stale, "another layout: rebuilt");
    assert_eq!(search.count().await.unwrap(), 0);
    drop(search);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn q1_the_cloud_engine_creates_its_index_with_the_mapping_before_its_first_request() {
    let (url, domain) = standin::start().await;
    let cloud = market_adapters::search::opensearch::CloudSearch::new(OpenSearchConfig {
        url,
        index: "listings".into(),
        sign: false,
    });
    // A search before anything was indexed: an empty page, not "no such index".
    let q = SearchQuery::parse(&params("facets=tld")).unwrap();
    let hits = cloud.search(&q.plan(now())).await.unwrap();
    assert_eq!(hits.total, 0);
    cloud.apply(puts(&fixture()[..2], 1)).await.unwrap();
    assert_eq!(cloud.count().await.unwrap(), 2);
    let received = domain.lock().unwrap().received.clone();
    let order: Vec<(&str, &str)> = received
        .iter()
        .map(|r| (r.method, r.path.as_str()))
        .collect();
    assert_eq!(
        &order[..3],
        &[
            ("HEAD", "/listings"),
            ("PUT", "/listings"),
            ("POST", "/listings/_search")
        ],
        "the mapping first, once"
    );
    assert_eq!(order.iter().filter(|(m, _)| *m == "PUT").count(), 1);
}
