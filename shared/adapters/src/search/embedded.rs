//! The embedded search engine: Tantivy, its index in a directory beside the embedded
//! store's file (or in memory for tests), built from the core's one mapping
//! (`market_core::search::doc::FIELDS`) and asked with the core's plan, clause by clause.
//!
//! Commits are grouped: `apply` adds and deletes documents without committing, and the next
//! search (or `commit_pending`, which the local runner calls every second) commits what is
//! pending first. So what a write changed is searchable as soon as it answered, a burst of
//! writes costs one commit, and an index nobody reads is committed within a second.
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value as _,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentOrdinal, SegmentReader,
    TantivyDocument, Term,
};

use market_app::ports::search::{Hits, SearchChange, SearchError, SearchIndex};
use market_core::search::doc::{self, FieldKind, SearchDoc, Value, FIELDS};
use market_core::search::name::{Charset, PINYIN};
use market_core::search::query::{Clause, Facet, Order, Plan, SortKey};

/// The analyzer of gram fields: the grams are made by the core, separated by spaces.
const GRAMS_ANALYZER: &str = "grams";
/// The version of the listing's item a document was made from.
const VERSION: &str = "_version";
/// The name's classes as one number (its charset's place in `Charset::ALL`, plus
/// [`PINYIN_BIT`]): the charset facet counts one small number a document, not a list of
/// words.
const CLASS_CODE: &str = "_class";
const PINYIN_BIT: u64 = 8;
/// How long a removal is remembered against a late, older put (OpenSearch's
/// `index.gc_deletes` is 60 s).
const TOMBSTONE_LIFE: Duration = Duration::from_secs(300);
/// The layout of the index on disk: the mapping's fields and kinds and this engine's own.
/// An index written by another layout is made anew and rebuilt from the store.
fn layout() -> String {
    let fields: Vec<String> = FIELDS
        .iter()
        .map(|(name, kind)| format!("{name}:{kind:?}"))
        .chain([VERSION, CLASS_CODE].map(str::to_owned))
        .collect();
    format!("market-search-1 {}", fields.join(","))
}

fn failed(e: impl std::fmt::Display) -> SearchError {
    SearchError::Failed(e.to_string())
}

/// The schema built from the one mapping.
fn schema() -> Schema {
    let mut builder = Schema::builder();
    let faceted: Vec<&str> = [Facet::Tld, Facet::Length, Facet::Charset]
        .iter()
        .map(|f| f.field())
        .collect();
    for (name, kind) in FIELDS {
        match kind {
            FieldKind::Keyword => {
                let indexing = TextFieldIndexing::default()
                    .set_tokenizer("raw")
                    .set_index_option(IndexRecordOption::Basic);
                let mut options = TextOptions::default().set_indexing_options(indexing);
                if faceted.contains(name) {
                    options = options.set_fast("raw");
                }
                builder.add_text_field(name, options);
            }
            FieldKind::Grams => {
                let indexing = TextFieldIndexing::default()
                    .set_tokenizer(GRAMS_ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions);
                builder.add_text_field(name, TextOptions::default().set_indexing_options(indexing));
            }
            FieldKind::Number => {
                builder.add_i64_field(name, NumericOptions::default().set_indexed().set_fast());
            }
            FieldKind::Stored => {
                builder.add_text_field(name, TextOptions::default().set_stored());
            }
        }
    }
    builder.add_u64_field(VERSION, NumericOptions::default().set_fast());
    builder.add_u64_field(CLASS_CODE, NumericOptions::default().set_fast());
    builder.build()
}

struct Writer {
    writer: IndexWriter,
    /// Removed ids and the version they were removed at.
    tombstones: HashMap<String, (u64, Instant)>,
    /// Versions of the documents added or removed since the last commit (the reader does
    /// not see them yet).
    pending: HashMap<String, u64>,
}

/// The embedded engine. Cheap to share (`Arc`).
pub struct EmbeddedSearch {
    index: Index,
    reader: IndexReader,
    schema: Schema,
    writer: Arc<Mutex<Writer>>,
    /// The file whose presence says the index was closed cleanly (none in memory).
    clean_marker: Option<std::path::PathBuf>,
}

impl EmbeddedSearch {
    /// Opens the index in `dir`, creating it (empty) when missing or written by another
    /// layout. Returns whether it is stale: created now, or not closed cleanly last time
    /// ([`EmbeddedSearch::mark_clean`]: a crash may have left a committed write unindexed).
    /// The caller rebuilds a stale index from the store.
    pub fn open(dir: &Path, memory_budget: usize) -> anyhow::Result<(EmbeddedSearch, bool)> {
        let layout_file = dir.join("LAYOUT");
        let clean = dir.join("CLEAN");
        let current = std::fs::read_to_string(&layout_file).ok();
        let fresh = current.as_deref() != Some(layout().as_str());
        let was_clean = clean.exists();
        if fresh && dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let index = if fresh {
            Index::create_in_dir(dir, schema())?
        } else {
            Index::open_in_dir(dir)?
        };
        let mut search = Self::with(index, memory_budget)?;
        search.clean_marker = Some(clean.clone());
        if fresh {
            std::fs::write(&layout_file, layout())?;
        } else if was_clean {
            // Open now: until the next clean close, a crash leaves it stale.
            std::fs::remove_file(&clean)?;
        }
        Ok((search, fresh || !was_clean))
    }

    /// Commits what was applied since the last commit, if anything.
    pub fn commit_pending(&self) -> tantivy::Result<()> {
        let mut guard = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.pending.is_empty() {
            return Ok(());
        }
        guard.writer.commit()?;
        self.reader.reload()?;
        guard.pending.clear();
        Ok(())
    }

    /// Commits what is pending and records that the index holds every change handed to it
    /// (a graceful shutdown).
    pub fn mark_clean(&self) -> std::io::Result<()> {
        self.commit_pending().map_err(std::io::Error::other)?;
        match &self.clean_marker {
            Some(path) => std::fs::write(path, "closed cleanly\n"),
            None => Ok(()),
        }
    }

    /// An index that lives in memory (tests, `MARKET_DATA=:memory:`).
    pub fn in_memory() -> anyhow::Result<EmbeddedSearch> {
        Self::with(Index::create_in_ram(schema()), 15_000_000)
    }

    fn with(index: Index, memory_budget: usize) -> anyhow::Result<EmbeddedSearch> {
        index.tokenizers().register(
            GRAMS_ANALYZER,
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        let writer = index.writer_with_num_threads(1, memory_budget.max(15_000_000))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(EmbeddedSearch {
            schema: index.schema(),
            index,
            reader,
            writer: Arc::new(Mutex::new(Writer {
                writer,
                tombstones: HashMap::new(),
                pending: HashMap::new(),
            })),
            clean_marker: None,
        })
    }

    fn field(&self, name: &str) -> Field {
        self.schema
            .get_field(name)
            .expect("every field of the mapping is in the schema")
    }

    /// The version of the document with this id the index holds.
    fn indexed_version(
        &self,
        searcher: &tantivy::Searcher,
        id: &str,
    ) -> tantivy::Result<Option<u64>> {
        let term = Term::from_field_text(self.field(doc::ID), id);
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        let found = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = found.first() else {
            return Ok(None);
        };
        let segment = searcher.segment_reader(address.segment_ord);
        let versions: Column<u64> = segment.fast_fields().u64(VERSION)?;
        Ok(versions.first(address.doc_id))
    }

    fn document(&self, search_doc: &SearchDoc) -> TantivyDocument {
        let mut out = TantivyDocument::default();
        for (name, value) in &search_doc.fields {
            let field = self.field(name);
            match (doc::kind_of(name), value) {
                (Some(FieldKind::Grams), Value::Words(grams)) => {
                    if !grams.is_empty() {
                        out.add_text(field, grams.join(" "));
                    }
                }
                (_, Value::Words(words)) => {
                    for word in words {
                        out.add_text(field, word);
                    }
                }
                (_, Value::Number(n)) => out.add_i64(field, *n),
                (_, Value::Text(text)) => out.add_text(field, text),
            }
        }
        out.add_u64(self.field(VERSION), search_doc.version);
        out.add_u64(self.field(CLASS_CODE), class_code(search_doc));
        out
    }

    fn apply_now(&self, changes: Vec<SearchChange>) -> tantivy::Result<()> {
        let mut guard = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Writer {
            writer,
            tombstones,
            pending,
        } = &mut *guard;
        tombstones.retain(|_, (_, at)| at.elapsed() < TOMBSTONE_LIFE);
        // The newest change of each id wins, within the batch and against the index.
        let mut newest: HashMap<String, (u64, Option<&SearchDoc>)> = HashMap::new();
        for change in &changes {
            let (id, version, put) = match change {
                SearchChange::Put(d) => (&d.id, d.version, Some(d)),
                SearchChange::Remove { id, version } => (id, *version, None),
            };
            match newest.get(id) {
                Some((v, _)) if *v > version => {}
                _ => {
                    newest.insert(id.clone(), (version, put));
                }
            }
        }
        let searcher = self.reader.searcher();
        let id_field = self.field(doc::ID);
        for (id, (version, put)) in newest {
            let held = match pending.get(&id) {
                Some(v) => Some(*v),
                None => self.indexed_version(&searcher, &id)?,
            };
            let removed = tombstones.get(&id).map(|(v, _)| *v);
            if held.is_some_and(|v| v > version) || removed.is_some_and(|v| v >= version) {
                continue;
            }
            writer.delete_term(Term::from_field_text(id_field, &id));
            pending.insert(id.clone(), version);
            match put {
                Some(search_doc) => {
                    tombstones.remove(&id);
                    writer.add_document(self.document(search_doc))?;
                }
                None => {
                    tombstones.insert(id, (version, Instant::now()));
                }
            }
        }
        Ok(())
    }

    fn clause(&self, clause: &Clause) -> Box<dyn Query> {
        match clause {
            Clause::Term { field, value } => Box::new(TermQuery::new(
                Term::from_field_text(self.field(field), value),
                IndexRecordOption::Basic,
            )),
            Clause::AnyTerm { field, values } => {
                let field = self.field(field);
                Box::new(TermSetQuery::new(
                    values.iter().map(|v| Term::from_field_text(field, v)),
                ))
            }
            Clause::Range { field, min, max } => {
                let field = self.field(field);
                let bound = |b: Option<i64>| match b {
                    Some(n) => Bound::Included(Term::from_field_i64(field, n)),
                    None => Bound::Unbounded,
                };
                Box::new(RangeQuery::new(bound(*min), bound(*max)))
            }
            Clause::Phrase { field, grams } => {
                let field = self.field(field);
                let mut terms: Vec<Term> = grams
                    .iter()
                    .map(|g| Term::from_field_text(field, g))
                    .collect();
                if terms.len() == 1 {
                    Box::new(TermQuery::new(terms.remove(0), IndexRecordOption::Basic))
                } else {
                    Box::new(PhraseQuery::new(terms))
                }
            }
            Clause::Any(clauses) => Box::new(BooleanQuery::union(
                clauses.iter().map(|c| self.clause(c)).collect(),
            )),
            Clause::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, self.clause(inner)),
            ])),
        }
    }

    /// The plan as one query: filters score nothing, each boost its weight when it holds.
    fn query(&self, plan: &Plan) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = plan
            .filter
            .iter()
            .map(|c| {
                let q: Box<dyn Query> = Box::new(ConstScoreQuery::new(self.clause(c), 0.0));
                (Occur::Must, q)
            })
            .collect();
        if clauses.is_empty() {
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(AllQuery), 0.0)),
            ));
        }
        for (clause, boost) in &plan.boosts {
            let q: Box<dyn Query> =
                Box::new(ConstScoreQuery::new(self.clause(clause), *boost as Score));
            clauses.push((Occur::Should, q));
        }
        BooleanQuery::new(clauses)
    }

    fn search_now(&self, plan: &Plan) -> tantivy::Result<Hits> {
        self.commit_pending()?;
        let searcher = self.reader.searcher();
        let query = self.query(plan);
        // Larger sorts first: an ascending key is negated.
        let keys: Vec<(Option<String>, i64)> = plan
            .sort
            .iter()
            .map(|(key, order)| {
                let sign = if *order == Order::Ascending { -1 } else { 1 };
                match key {
                    SortKey::Score => (None, sign),
                    SortKey::Field(f) => (Some((*f).to_owned()), sign),
                }
            })
            .collect();
        let scored = keys.iter().any(|(field, _)| field.is_none());
        let facets = FacetCounter {
            facets: plan.facets.clone(),
        };
        let top = TopDocs::with_limit(plan.limit).and_offset(plan.offset);
        // Without the score in the order, nothing is scored: the key is read from columns.
        let (found, total, counted) = if scored {
            let top = top.tweak_score(move |segment: &SegmentReader| {
                let key = SortKeyOf::new(segment, &keys);
                move |doc: DocId, score: Score| key.of(doc, score)
            });
            let (found, total, counted) = searcher.search(&query, &(top, Count, facets))?;
            (
                found.into_iter().map(|(_, a)| a).collect::<Vec<_>>(),
                total,
                counted,
            )
        } else {
            let top = top.order_by(move |segment: &SegmentReader| {
                let key = SortKeyOf::new(segment, &keys);
                move |doc: DocId| key.of(doc, 0.0)
            });
            let (found, total, counted) = searcher.search(&query, &(top, Count, facets))?;
            (
                found.into_iter().map(|(_, a)| a).collect::<Vec<_>>(),
                total,
                counted,
            )
        };
        let stored = self.field(doc::LISTING);
        let mut listings = Vec::with_capacity(found.len());
        for address in found {
            let document: TantivyDocument = searcher.doc(address)?;
            let json = document
                .get_first(stored)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            listings.push(json);
        }
        Ok(Hits {
            listings,
            total: total as u64,
            facets: counted,
        })
    }
}

/// A document's [`CLASS_CODE`].
fn class_code(search_doc: &SearchDoc) -> u64 {
    let Some(Value::Words(classes)) = search_doc.get(doc::CLASSES) else {
        return 0;
    };
    let charset = Charset::ALL
        .iter()
        .position(|c| classes.iter().any(|w| w == c.as_str()))
        .unwrap_or(0) as u64;
    let pinyin = classes.iter().any(|w| w == PINYIN);
    charset | if pinyin { PINYIN_BIT } else { 0 }
}

#[async_trait]
impl SearchIndex for EmbeddedSearch {
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        if changes.is_empty() {
            return Ok(());
        }
        let this = self.clone_handle();
        tokio::task::spawn_blocking(move || this.apply_now(changes))
            .await
            .map_err(failed)?
            .map_err(failed)
    }

    async fn search(&self, plan: &Plan) -> Result<Hits, SearchError> {
        let this = self.clone_handle();
        let plan = plan.clone();
        tokio::task::spawn_blocking(move || this.search_now(&plan))
            .await
            .map_err(failed)?
            .map_err(failed)
    }

    async fn count(&self) -> Result<u64, SearchError> {
        let this = self.clone_handle();
        tokio::task::spawn_blocking(move || {
            this.commit_pending()?;
            Ok::<_, tantivy::TantivyError>(this.reader.searcher().num_docs())
        })
        .await
        .map_err(failed)?
        .map_err(failed)
    }
}

impl EmbeddedSearch {
    fn clone_handle(&self) -> EmbeddedSearch {
        EmbeddedSearch {
            index: self.index.clone(),
            reader: self.reader.clone(),
            schema: self.schema.clone(),
            writer: self.writer.clone(),
            clean_marker: self.clean_marker.clone(),
        }
    }
}

/// A segment's sort key reader: up to four keys, larger first (ascending keys negated).
struct SortKeyOf {
    columns: Vec<(Option<Column<i64>>, i64)>,
}

impl SortKeyOf {
    fn new(segment: &SegmentReader, keys: &[(Option<String>, i64)]) -> SortKeyOf {
        SortKeyOf {
            columns: keys
                .iter()
                .map(|(field, sign)| {
                    let column = field
                        .as_deref()
                        .and_then(|f| segment.fast_fields().i64(f).ok());
                    (column, *sign)
                })
                .collect(),
        }
    }

    fn of(&self, doc: DocId, score: Score) -> [i64; 4] {
        let mut key = [0i64; 4];
        for (slot, (column, sign)) in key.iter_mut().zip(&self.columns) {
            let value = match column {
                Some(c) => c.first(doc).unwrap_or(0),
                None => score.round() as i64,
            };
            *slot = value.saturating_mul(*sign);
        }
        key
    }
}

/// Counts the values of the facets over every match.
struct FacetCounter {
    facets: Vec<Facet>,
}

/// A facet's column in one segment, and its counts: by term ordinal for words, by value
/// for numbers (lengths are small; larger values go to a map). Arrays, not maps, on the
/// hot path: a facet over the whole market counts a million documents.
enum FacetColumn {
    Words(Option<StrColumn>, Vec<u64>),
    Number(Column<i64>, Vec<u64>, HashMap<i64, u64>),
    /// The charset facet, by [`CLASS_CODE`].
    Classes(Column<u64>, [u64; 16]),
}

/// Numbers below this are counted in an array.
const SMALL_NUMBERS: usize = 256;

struct SegmentFacets {
    columns: Vec<(Facet, FacetColumn)>,
}

type FacetFruit = Vec<(Facet, HashMap<String, u64>)>;

impl Collector for FacetCounter {
    type Fruit = Vec<(Facet, Vec<(String, u64)>)>;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let mut columns = Vec::new();
        for facet in &self.facets {
            let column = match facet {
                Facet::Length => FacetColumn::Number(
                    segment.fast_fields().i64(facet.field())?,
                    vec![0; SMALL_NUMBERS],
                    HashMap::new(),
                ),
                Facet::Charset => {
                    FacetColumn::Classes(segment.fast_fields().u64(CLASS_CODE)?, [0; 16])
                }
                _ => {
                    let words = segment.fast_fields().str(facet.field())?;
                    let terms = words.as_ref().map_or(0, |w| w.num_terms());
                    FacetColumn::Words(words, vec![0; terms])
                }
            };
            columns.push((*facet, column));
        }
        Ok(SegmentFacets { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<FacetFruit>) -> tantivy::Result<Self::Fruit> {
        let mut merged: Vec<(Facet, HashMap<String, u64>)> =
            self.facets.iter().map(|f| (*f, HashMap::new())).collect();
        for segment in segments {
            for ((_, into), (_, counts)) in merged.iter_mut().zip(segment) {
                for (value, n) in counts {
                    *into.entry(value).or_default() += n;
                }
            }
        }
        Ok(merged
            .into_iter()
            .map(|(facet, counts)| (facet, most_first(counts)))
            .collect())
    }
}

/// Counts, most first, then by value.
pub fn most_first(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (_, column) in &mut self.columns {
            match column {
                FacetColumn::Words(Some(words), counts) => {
                    for ord in words.term_ords(doc) {
                        counts[ord as usize] += 1;
                    }
                }
                FacetColumn::Words(None, _) => {}
                FacetColumn::Classes(codes, counts) => {
                    if let Some(code) = codes.first(doc) {
                        counts[(code & 15) as usize] += 1;
                    }
                }
                FacetColumn::Number(numbers, small, large) => {
                    if let Some(n) = numbers.first(doc) {
                        match usize::try_from(n) {
                            Ok(i) if i < SMALL_NUMBERS => small[i] += 1,
                            _ => *large.entry(n).or_default() += 1,
                        }
                    }
                }
            }
        }
    }

    fn harvest(self) -> FacetFruit {
        self.columns
            .into_iter()
            .map(|(facet, column)| {
                let mut named: HashMap<String, u64> = HashMap::new();
                match column {
                    FacetColumn::Words(Some(words), counts) => {
                        for (ord, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                            let mut text = String::new();
                            let _ = words.ord_to_str(ord as u64, &mut text);
                            named.insert(text, n);
                        }
                    }
                    FacetColumn::Words(None, _) => {}
                    FacetColumn::Classes(_, counts) => {
                        for (code, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                            let charset =
                                Charset::ALL[(code as u64 & (PINYIN_BIT - 1)) as usize % 5];
                            *named.entry(charset.as_str().to_owned()).or_default() += n;
                            if code as u64 & PINYIN_BIT != 0 {
                                *named.entry(PINYIN.to_owned()).or_default() += n;
                            }
                        }
                    }
                    FacetColumn::Number(_, small, large) => {
                        for (value, n) in small.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                            named.insert(value.to_string(), n);
                        }
                        for (value, n) in large {
                            named.insert(value.to_string(), n);
                        }
                    }
                }
                (facet, named)
            })
            .collect()
    }
}
