//! `cargo bench -p market-tests --bench search`: the embedded search engine (Tantivy) at a
//! registrar's scale (Q1).
//!
//! Indexes `LISTINGS` (default 1,000,000) synthetic listings with a realistic mix: names of
//! letters, digits, pinyin of one to three syllables, letters and digits, hyphens and IDNs;
//! TLDs weighted as a Chinese registrar's; prices from ¥10 to ¥1,000,000; expiries over ten
//! years. Prints the indexing time, the index's size on disk and the process's peak
//! resident memory, then runs a query mix (a rare and a common keyword, length + charset,
//! pinyin syllables, prefix, exclusion, price range, each sort, facets over the whole
//! market) and prints p50 and p99 per kind. Goals: p99 ≤ 20 ms with facets; the one
//! listing a rare keyword matches found first on page one.
use std::time::{Duration as Elapsed, Instant};

use chrono::{Duration, TimeZone, Utc};

use market_adapters::search::embedded::EmbeddedSearch;
use market_app::ports::search::{SearchChange, SearchIndex};
use market_core::domain_name::DomainName;
use market_core::ids::{AccountId, ListingId};
use market_core::model::{Listing, ListingStatus};
use market_core::money::Money;
use market_core::search::doc::SearchDoc;
use market_core::search::query::{SearchParams, SearchQuery};

const PINYIN: &[&str] = &[
    "ai", "an", "bai", "bao", "bei", "chang", "chen", "cheng", "da", "dong", "fang", "fei", "feng",
    "gao", "guo", "hai", "hao", "hong", "hua", "huang", "jia", "jian", "jin", "jing", "kai", "le",
    "li", "lian", "long", "mei", "mi", "ming", "ping", "qi", "qing", "shan", "shang", "shi",
    "tian", "tong", "wang", "wei", "xiao", "xin", "xing", "yang", "yi", "yun", "zhong", "zhi",
];
const WORDS: &[&str] = &[
    "shop", "cloud", "tech", "best", "home", "game", "data", "smart", "green", "star", "blue",
    "web", "app", "net", "hub", "zone", "labs", "go", "my", "pay", "buy", "car", "food",
];
const HAN: &[char] = &[
    '中', '国', '网', '商', '城', '科', '技', '云', '家', '天', '好', '龙',
];
const TLDS: &[(&str, u32)] = &[
    ("com", 50),
    ("cn", 15),
    ("net", 10),
    ("top", 5),
    ("xyz", 4),
    ("org", 4),
    ("io", 5),
    ("中国", 3),
    ("vip", 4),
];

struct Rng(fastrand::Rng);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0.usize(..n)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn letters(&mut self, n: usize) -> String {
        (0..n).map(|_| (b'a' + self.0.u8(..26)) as char).collect()
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| (b'0' + self.0.u8(..10)) as char).collect()
    }
}

fn name(rng: &mut Rng) -> String {
    match rng.below(100) {
        0..=24 => {
            let n = 3 + rng.below(8);
            rng.letters(n)
        }
        25..=39 => {
            let n = 3 + rng.below(6);
            rng.digits(n)
        }
        40..=54 => {
            let n = 1 + rng.below(3);
            (0..n).map(|_| *rng.pick(PINYIN)).collect()
        }
        55..=64 => {
            let (letters, digits) = (2 + rng.below(3), 1 + rng.below(3));
            let a = rng.letters(letters);
            let b = rng.digits(digits);
            format!("{a}{b}")
        }
        65..=74 => format!("{}-{}", rng.pick(WORDS), rng.pick(WORDS)),
        75..=79 => {
            let n = 2 + rng.below(3);
            (0..n).map(|_| *rng.pick(HAN)).collect()
        }
        _ => format!("{}{}", rng.pick(WORDS), rng.pick(WORDS)),
    }
}

fn tld(rng: &mut Rng) -> &'static str {
    let total: u32 = TLDS.iter().map(|(_, w)| w).sum();
    let mut at = rng.0.u32(..total);
    for (tld, weight) in TLDS {
        if at < *weight {
            return tld;
        }
        at -= weight;
    }
    "com"
}

fn listing(rng: &mut Rng, i: usize, domain: &str) -> Listing {
    let base = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let created = base - Duration::seconds(i as i64);
    // ¥10 to ¥1,000,000, spread evenly over the orders of magnitude.
    let price = 10f64 * 10f64.powf(rng.0.f64() * 5.0);
    Listing {
        id: ListingId::mint(ulid::Ulid::from_parts(
            created.timestamp_millis() as u64,
            i as u128,
        )),
        domain: DomainName::parse(domain).unwrap(),
        seller: AccountId::parse(&format!("seller{}", rng.below(50_000))).unwrap(),
        price: Money::parse(&format!("{:.2}", price)).unwrap(),
        status: ListingStatus::Active,
        end_reason: None,
        buyable_at: created,
        ends_at: base + Duration::days(1 + rng.below(180) as i64),
        description: String::new(),
        created_at: created,
        updated_at: created,
        hold: None,
        sold_to: None,
        domain_expires_at: Some(base + Duration::days(30 + rng.below(3650) as i64)),
        first_price: None,
        takedown: None,
        partner: None,
    }
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn params(query: &str) -> SearchParams {
    SearchParams::from_query(query).expect("parameters GET /listings takes")
}

fn percentile(sorted: &[Elapsed], p: f64) -> f64 {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at].as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::var("LISTINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = market_tests::bench_runtime();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("search-bench-{}", ulid::Ulid::new()));
        let (search, _) = EmbeddedSearch::open(&dir, 1_000_000_000).unwrap();
        let mut rng = Rng(fastrand::Rng::with_seed(27));
        let rare = n / 2;
        let started = Instant::now();
        let mut batch = Vec::with_capacity(50_000);
        for i in 0..n {
            let domain = if i == rare {
                "qzxjvkw.com".to_owned()
            } else {
                format!("{}.{}", name(&mut rng), tld(&mut rng))
            };
            let l = listing(&mut rng, i, &domain);
            batch.push(SearchChange::Put(SearchDoc::of(&l, 1).unwrap()));
            if batch.len() == 50_000 {
                search.apply(std::mem::take(&mut batch)).await.unwrap();
            }
        }
        search.apply(batch).await.unwrap();
        let took = started.elapsed();
        let size = dir_size(&dir);
        println!(
            "indexed {n} listings in {:.1} s ({:.0} a second); index {:.0} MiB on disk ({:.0} bytes a listing); peak resident memory {:.0} MiB",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            size as f64 / 1048576.0,
            size as f64 / n as f64,
            peak_rss_mib()
        );
        assert_eq!(search.count().await.unwrap(), n as u64);

        let now = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap();
        // The rare keyword: one listing of n, first on page one.
        let rare_plan = SearchQuery::parse(&params("q=qzxjvkw")).unwrap().plan(now);
        let hits = search.search(&rare_plan).await.unwrap();
        let first: Listing = serde_json::from_str(&hits.listings[0]).unwrap();
        assert_eq!(first.domain.ascii(), "qzxjvkw.com");
        println!("q=qzxjvkw (1 listing of {n}): found first on page one, total {}", hits.total);

        let kinds: &[(&str, &[&str])] = &[
            ("keyword, rare", &["q=qzxjvkw", "q=qzxjv", "q=zxjvkw"]),
            ("keyword, common", &["q=shop", "q=xiao", "q=88", "q=cloud"]),
            ("keyword, exact name", &["q=xiaomi.com", "q=shopcloud.com"]),
            ("length + charset", &["min_len=4&max_len=4&charset=digits", "min_len=5&max_len=6&charset=letters"]),
            ("pinyin syllables", &["charset=pinyin&syllables=2", "charset=pinyin&syllables=3&tld=com"]),
            ("prefix / suffix", &["starts_with=xi", "ends_with=88", "starts_with=a&max_len=4"]),
            ("exclude", &["charset=digits&excludes=4", "charset=digits&excludes=47&max_len=5"]),
            ("price range", &["min_price=1000&max_price=5000", "max_price=100&tld=cn"]),
            ("expiry range", &["expires_before=2028-01-01&sort=expiry"]),
            ("sort newest (all)", &["sort=newest"]),
            ("sort price (all)", &["sort=price", "sort=-price"]),
            ("sort length (all)", &["sort=length"]),
            ("sort ending_soon (all)", &["sort=ending_soon"]),
            ("sort expiry (all)", &["sort=expiry"]),
            ("facets, whole market", &["facets=tld,length,charset"]),
            ("facets, keyword", &["q=shop&facets=tld,length,charset", "charset=pinyin&facets=tld,length,charset"]),
        ];
        let rounds = 60;
        let mut all = Vec::new();
        println!("{:28} {:>8} {:>8} {:>10}", "query", "p50 ms", "p99 ms", "matches");
        for (kind, queries) in kinds {
            let plans: Vec<_> = queries
                .iter()
                .map(|q| SearchQuery::parse(&params(q)).unwrap().plan(now))
                .collect();
            let mut times = Vec::new();
            let mut matches = 0;
            for round in 0..rounds {
                for plan in &plans {
                    let t = Instant::now();
                    let hits = search.search(plan).await.unwrap();
                    let spent = t.elapsed();
                    if round > 0 {
                        times.push(spent);
                    }
                    matches = hits.total;
                }
            }
            times.sort();
            all.extend(times.iter().copied());
            println!(
                "{kind:28} {:>8.2} {:>8.2} {:>10}",
                percentile(&times, 0.50),
                percentile(&times, 0.99),
                matches
            );
        }
        all.sort();
        println!(
            "{:28} {:>8.2} {:>8.2}   ({} queries; goal p99 ≤ 20 ms)",
            "all",
            percentile(&all, 0.50),
            percentile(&all, 0.99),
            all.len()
        );
        println!("peak resident memory {:.0} MiB", peak_rss_mib());
        drop(search);
        let _ = std::fs::remove_dir_all(dir);
    });
}
