//! Applications: drafts, the workflow's conditional moves, and the lists and joins their views read.

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use diesel::prelude::*;

use super::DbConnection;
use super::expert_reviews::Assignment;
use super::on_backend;
use super::schema::{applications, attachments, companies, expert_assignments, programs};
use crate::db::error::{Error, Result};
use crate::domain::paging::Key;
use crate::domain::workflow::Status;

/// The stored names of the statuses for which `keep` holds.
fn statuses(keep: impl Fn(Status) -> bool) -> Vec<&'static str> {
    Status::ALL.iter().copied().filter(|s| keep(*s)).map(Status::as_str).collect()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct ApplicationRow {
    pub id: i64,
    pub program_id: i64,
    pub company_id: i64,
    pub created_by: i64,
    pub reference_no: Option<String>,
    pub status: String,
    pub requested_amount_fen: i64,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_fen: i64,
    pub form_data: String,
    pub company_snapshot: Option<String>,
    pub correction_due_on: Option<NaiveDate>,
    pub notice_starts_on: Option<NaiveDate>,
    pub notice_ends_on: Option<NaiveDate>,
    pub payment_due_on: Option<NaiveDate>,
    pub submitted_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// An application with the names its view shows.
#[derive(Debug, Clone, Queryable)]
pub struct ApplicationRecord {
    pub application: ApplicationRow,
    pub program_code: String,
    pub program_title: String,
    pub company_name: String,
    pub company_credit_code: String,
    pub program_min_expert_reviews: i32,
    pub program_public_notice_days: i32,
}

/// The columns of an [`ApplicationRecord`], from applications joined with programmes and companies,
/// followed by any `extra` ones.
macro_rules! record_columns {
    ($($extra:expr),*) => {
        (
            ApplicationRow::as_select(),
            programs::code,
            programs::title,
            companies::name,
            companies::credit_code,
            programs::min_expert_reviews,
            programs::public_notice_days,
            $($extra,)*
        )
    };
}

pub fn insert_draft(
    conn: &mut DbConnection,
    program_id: i64,
    company_id: i64,
    created_by: i64,
    requested_amount_fen: i64,
    form_data: &str,
    now: NaiveDateTime,
) -> Result<i64> {
    Ok(diesel::insert_into(applications::table)
        .values((
            applications::program_id.eq(program_id),
            applications::company_id.eq(company_id),
            applications::created_by.eq(created_by),
            applications::requested_amount_fen.eq(requested_amount_fen),
            applications::form_data.eq(form_data),
            applications::created_at.eq(now),
            applications::updated_at.eq(now),
        ))
        .returning(applications::id)
        .get_result(conn)?)
}

/// A live application of this company for this programme, if there is one.
pub fn live_for(conn: &mut DbConnection, program_id: i64, company_id: i64) -> Result<Option<i64>> {
    Ok(applications::table
        .filter(applications::program_id.eq(program_id))
        .filter(applications::company_id.eq(company_id))
        .filter(applications::status.ne_all(statuses(|s| !s.is_live())))
        .select(applications::id)
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<ApplicationRecord> {
    Ok(on_backend!(conn, inner => applications::table
        .inner_join(programs::table)
        .inner_join(companies::table)
        .filter(applications::id.eq(id))
        .select(record_columns!())
        .first(inner))?)
}

/// [`find`] and the application's expert assignments, in one query (one row per assignment).
pub fn find_with_assignments(conn: &mut DbConnection, id: i64) -> Result<(ApplicationRecord, Vec<Assignment>)> {
    type Row = (ApplicationRow, String, String, String, String, i32, i32, Option<(i64, Option<bool>, Option<i32>)>);
    let rows: Vec<Row> = on_backend!(conn, inner => applications::table
        .inner_join(programs::table)
        .inner_join(companies::table)
        .left_join(expert_assignments::table)
        .filter(applications::id.eq(id))
        .select(record_columns!(
            (expert_assignments::expert_id, expert_assignments::conflict_of_interest, expert_assignments::score)
                .nullable()
        ))
        .load(inner))?;
    let assignments =
        rows.iter().filter_map(|row| row.7).map(|(expert, declared, score)| (id, expert, declared, score)).collect();
    let (application, program_code, program_title, company_name, company_credit_code, min_reviews, notice_days, _) =
        rows.into_iter().next().ok_or(Error::NotFound)?;
    let record = ApplicationRecord {
        application,
        program_code,
        program_title,
        company_name,
        company_credit_code,
        program_min_expert_reviews: min_reviews,
        program_public_notice_days: notice_days,
    };
    Ok((record, assignments))
}

/// Which applications a caller sees in lists.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Company(i64),
    AssignedTo(i64),
    All,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub program_id: Option<i64>,
    pub company_id: Option<i64>,
    pub submitted_from: Option<NaiveDateTime>,
    pub submitted_before: Option<NaiveDateTime>,
    /// Part of the reference number or of the company's name, in any case.
    pub q: Option<String>,
}

impl Filter {
    /// Whether the list is in order of submission rather than of creation: a list filtered by submission
    /// dates is, so that the dates' index gives its pages at any depth.
    pub fn by_submission(&self) -> bool {
        self.submitted_from.is_some() || self.submitted_before.is_some()
    }
}

/// Where a list of applications continues: after the application with this key. The submission time is
/// part of the key only in a list in order of submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListKey {
    pub submitted_at: Option<NaiveDateTime>,
    pub id: i64,
}

impl ListKey {
    /// `application`'s key in a list in order of submission (`by_submission`) or of creation.
    pub fn of(application: &ApplicationRow, by_submission: bool) -> Self {
        Self { submitted_at: application.submitted_at.filter(|_| by_submission), id: application.id }
    }
}

impl Key for ListKey {
    fn to_text(&self) -> String {
        match self.submitted_at {
            Some(at) => (at, self.id).to_text(),
            None => self.id.to_text(),
        }
    }
    fn from_text(text: &str) -> Option<Self> {
        if text.contains('/') {
            let (at, id) = <(NaiveDateTime, i64)>::from_text(text)?;
            Some(Self { submitted_at: Some(at), id })
        } else {
            Some(Self { submitted_at: None, id: i64::from_text(text)? })
        }
    }
}

/// A page of the applications `scope` and `filter` select, newest first (created, or submitted in a list by
/// submission dates), from `start`, a key of the same order: up to `limit` + 1
/// rows (the extra one tells that more follow), with the total. Staff's totals by status and programme, or by
/// submission dates alone, come from the counters; the others count on the index of their filter.
pub fn list(
    conn: &mut DbConnection,
    scope: Scope,
    filter: &Filter,
    start: super::Start<ListKey>,
    limit: i64,
) -> Result<(Vec<ApplicationRecord>, i64)> {
    let search = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
    let backend = conn.backend();
    let implied = filter.status.as_deref().and_then(Status::parse).is_some_and(Status::implies_submitted);
    // The filters read the applications alone: the total counts them on their indexes, and the page's keys
    // are found the same way (index only at any offset, in the list's order) before the page's rows are
    // joined. Up to `before`: the filter's end, or instead a cursor's place in a list by submission dates.
    let query = |before: Option<NaiveDateTime>| {
        let mut query = applications::table.into_boxed();
        query = match scope {
            Scope::Company(id) => query.filter(applications::company_id.eq(id)),
            // Experts are assigned to submitted applications only; a draft is the company's own.
            Scope::AssignedTo(expert) => query
                .filter(applications::id.eq_any(super::expert_reviews::assigned_to(expert)))
                .filter(applications::submitted_at.is_not_null()),
            // A status that implies submission needs no check of the row: the page stays on the index.
            Scope::All if implied => query,
            Scope::All => query.filter(applications::submitted_at.is_not_null()),
        };
        if let Some(status) = &filter.status {
            query = query.filter(applications::status.eq(status.clone()));
        }
        if let Some(id) = filter.program_id {
            query = query.filter(applications::program_id.eq(id));
        }
        if let Some(id) = filter.company_id {
            query = query.filter(applications::company_id.eq(id));
        }
        if let Some(from) = filter.submitted_from {
            query = query.filter(applications::submitted_at.ge(from));
        }
        if let Some(before) = before {
            query = query.filter(applications::submitted_at.lt(before));
        }
        if let Some(q) = &search {
            query = query.filter(super::search::matching_applications(backend, q));
        }
        query
    };
    let (from, before) = (filter.submitted_from, filter.submitted_before);
    let by_submission = filter.by_submission();
    if search.is_some() {
        // A search is looked up once: its matches newest first, the total and the page taken from them. Only
        // a search matching more than a window of applications is counted and paged like the other filters.
        let found = keys(conn, query(before), SEARCH_WINDOW + 1, by_submission)?;
        let total = i64::try_from(found.len()).unwrap_or(i64::MAX);
        if total <= SEARCH_WINDOW {
            let skipped = match start {
                super::Start::Offset(offset) => usize::try_from(offset).unwrap_or(usize::MAX),
                super::Start::After(after) => found.partition_point(|key| *key >= after),
            };
            let taken = usize::try_from(limit + 1).unwrap_or(usize::MAX);
            let page: Vec<_> = found.into_iter().skip(skipped).take(taken).collect();
            return Ok((records(conn, &page, by_submission)?, total));
        }
    }
    let counted = matches!(scope, Scope::All) && filter.company_id.is_none() && search.is_none();
    let by_hours =
        filter.status.is_none() && filter.program_id.is_none() && [from, before].iter().flatten().all(is_whole_hour);
    let total = if counted && !by_submission {
        super::queues::submitted_in(conn, filter.status.as_deref(), filter.program_id)?
    } else if counted && by_hours {
        super::queues::submitted_between(conn, from, before)?
    } else {
        query(before).count().get_result(conn)?
    };
    let page = match start {
        super::Start::Offset(offset) => query(before).offset(offset),
        // The cursor's place is the one upper bound of the index's range (SQLite's planner takes only one);
        // the second condition skips what was submitted at the same time and listed already.
        super::Start::After(ListKey { submitted_at: Some(at), id }) => {
            let within = before.is_none_or(|before| at < before);
            query(if within { None } else { before })
                .filter(applications::submitted_at.le(at))
                .filter(applications::submitted_at.lt(at).or(applications::id.lt(id)))
        }
        super::Start::After(ListKey { submitted_at: None, id }) => query(before).filter(applications::id.lt(id)),
    };
    let page = keys(conn, page, limit + 1, by_submission)?;
    Ok((records(conn, &page, by_submission)?, total))
}

/// How many matches of a search are looked up at once: more than anyone pages through.
const SEARCH_WINDOW: i64 = 2_000;

/// The keys of the first `limit` applications `query` selects, newest first in the list's order.
fn keys(
    conn: &mut DbConnection,
    query: applications::BoxedQuery<'_, super::Multi>,
    limit: i64,
    by_submission: bool,
) -> Result<Vec<ListKey>> {
    let keys: Vec<(Option<NaiveDateTime>, i64)> = if by_submission {
        let order = (applications::submitted_at.desc(), applications::id.desc());
        query.order(order).limit(limit).select((applications::submitted_at, applications::id)).load(conn)?
    } else {
        let ids: Vec<i64> = query.order(applications::id.desc()).limit(limit).select(applications::id).load(conn)?;
        ids.into_iter().map(|id| (None, id)).collect()
    };
    Ok(keys.into_iter().map(|(submitted_at, id)| ListKey { submitted_at, id }).collect())
}

/// The records of the applications `keys` name, in their order.
fn records(conn: &mut DbConnection, keys: &[ListKey], by_submission: bool) -> Result<Vec<ApplicationRecord>> {
    let mut records: Vec<ApplicationRecord> = applications::table
        .inner_join(programs::table)
        .inner_join(companies::table)
        .filter(applications::id.eq_any(keys.iter().map(|key| key.id)))
        .select(record_columns!())
        .load(conn)?;
    records.sort_unstable_by_key(|r| std::cmp::Reverse(ListKey::of(&r.application, by_submission)));
    Ok(records)
}

/// Whether `time` starts an hour, as the hourly counters of submissions count from.
fn is_whole_hour(time: &NaiveDateTime) -> bool {
    time.minute() == 0 && time.second() == 0 && time.nanosecond() == 0
}

/// Saves a company's edits while the application is editable; false if it no longer is.
pub fn update_draft(
    conn: &mut DbConnection,
    id: i64,
    requested_amount_fen: i64,
    form_data: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let saved =
        diesel::update(applications::table.find(id).filter(applications::status.eq_any(statuses(Status::is_editable))))
            .set((
                applications::requested_amount_fen.eq(requested_amount_fen),
                applications::form_data.eq(form_data),
                applications::version.eq(applications::version + 1),
                applications::updated_at.eq(now),
            ))
            .execute(conn)?;
    Ok(saved == 1)
}

/// Deletes a draft and its attachment rows; answers the storage keys of the files to remove afterwards.
pub fn delete_draft(conn: &mut DbConnection, id: i64) -> Result<Option<Vec<String>>> {
    let keys =
        attachments::table.filter(attachments::application_id.eq(id)).select(attachments::storage_key).load(conn)?;
    diesel::delete(attachments::table.filter(attachments::application_id.eq(id))).execute(conn)?;
    super::invoices::delete_of(conn, id)?;
    let deleted = diesel::delete(applications::table.find(id).filter(applications::status.eq(Status::Draft.as_str())))
        .execute(conn)?;
    Ok((deleted == 1).then_some(keys))
}

/// The changes a transition makes besides status and version.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = applications)]
pub struct TransitionChanges {
    pub reference_no: Option<String>,
    pub company_snapshot: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
    pub approved_amount_fen: Option<i64>,
    pub correction_due_on: Option<NaiveDate>,
    pub notice_starts_on: Option<NaiveDate>,
    pub notice_ends_on: Option<NaiveDate>,
    pub payment_due_on: Option<NaiveDate>,
    pub decided_at: Option<NaiveDateTime>,
}

/// Moves an application from `from` (at `version`) to `to` with one conditional update: a stale version
/// or a concurrent move changes nothing and answers false.
pub fn transition(
    conn: &mut DbConnection,
    id: i64,
    from: Status,
    version: i32,
    to: Status,
    changes: &TransitionChanges,
    now: NaiveDateTime,
) -> Result<bool> {
    let moved = diesel::update(
        applications::table
            .find(id)
            .filter(applications::status.eq(from.as_str()))
            .filter(applications::version.eq(version)),
    )
    .set((
        applications::status.eq(to.as_str()),
        applications::version.eq(applications::version + 1),
        applications::updated_at.eq(now),
        changes,
    ))
    .execute(conn)?;
    Ok(moved == 1)
}

/// Bumps the version, so an action prepared before an upload or deletion is refused as stale.
pub fn touch(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> Result<()> {
    diesel::update(applications::table.find(id))
        .set((applications::version.eq(applications::version + 1), applications::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Applications whose public notice runs on `today`, soonest ending first, from `start` (keyed by the
/// notice's end and the id): up to `limit` + 1 (the extra one tells that more follow), with the total.
pub fn in_notice(
    conn: &mut DbConnection,
    today: NaiveDate,
    start: super::Start<(NaiveDate, i64)>,
    limit: i64,
) -> Result<(Vec<ApplicationRecord>, i64)> {
    // Counted by the counters, paged on the index (status, notice end, id, programme) alone; only the page's
    // rows are joined.
    let query = || {
        let noticed = programs::table.filter(programs::public_notice_days.gt(0)).select(programs::id);
        applications::table
            .filter(applications::status.eq(Status::PublicNotice.as_str()))
            .filter(applications::notice_ends_on.ge(today))
            .filter(applications::program_id.eq_any(noticed))
            .into_boxed()
    };
    let total = super::queues::notices_running(conn, today)?;
    let page = match start {
        super::Start::Offset(offset) => query().offset(offset),
        super::Start::After((ends_on, id)) => query().filter(
            applications::notice_ends_on
                .gt(ends_on)
                .or(applications::notice_ends_on.eq(ends_on).and(applications::id.gt(id))),
        ),
    };
    let order = (applications::notice_ends_on.asc(), applications::id.asc());
    let ids: Vec<i64> = page.order(order).limit(limit + 1).select(applications::id).load(conn)?;
    let rows = applications::table
        .inner_join(programs::table)
        .inner_join(companies::table)
        .filter(applications::id.eq_any(ids))
        .order(order)
        .select(record_columns!())
        .load(conn)?;
    Ok((rows, total))
}

/// An award a company holds: an application in public notice, approved or disbursed.
#[derive(Debug, Clone, Queryable)]
pub struct Award {
    pub id: i64,
    pub program_id: i64,
    pub program_title: String,
    pub reference_no: Option<String>,
    pub status: String,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_fen: i64,
    pub version: i32,
}

/// The company's live awards in programmes of the support family `family`, other than `except`.
pub fn awards_in_family(conn: &mut DbConnection, company_id: i64, family: &str, except: i64) -> Result<Vec<Award>> {
    let awarded = [Status::PublicNotice, Status::Approved, Status::Disbursed].map(Status::as_str);
    Ok(applications::table
        .inner_join(programs::table)
        .filter(applications::company_id.eq(company_id))
        .filter(programs::support_family.eq(family))
        .filter(applications::status.eq_any(awarded))
        .filter(applications::id.ne(except))
        .order(applications::id.asc())
        .select((
            applications::id,
            applications::program_id,
            programs::title,
            applications::reference_no,
            applications::status,
            applications::approved_amount_fen,
            applications::disbursed_fen,
            applications::version,
        ))
        .load(conn)?)
}

/// Takes the row locks of the applications `ids`, in order of id, until the transaction ends: a batch that
/// moves several applications holds them all before its first move, as a single action holds its one
/// application before the counters its move updates. (SQLite's write transaction holds every lock already.)
pub fn lock(conn: &mut DbConnection, ids: &[i64]) -> Result<()> {
    if let DbConnection::Postgres(postgres) = conn {
        applications::table
            .filter(applications::id.eq_any(ids))
            .order(applications::id.asc())
            .select(applications::id)
            .for_update()
            .load::<i64>(postgres)?;
    }
    Ok(())
}

/// Takes the company's row lock until the transaction ends, so that decisions about its awards (one
/// per support family) are taken one at a time; SQLite's write transaction holds every lock already.
pub fn lock_company(conn: &mut DbConnection, company_id: i64) -> Result<()> {
    let locked = diesel::update(companies::table.find(company_id))
        .set(companies::updated_at.eq(companies::updated_at))
        .execute(conn)?;
    if locked == 1 { Ok(()) } else { Err(Error::NotFound) }
}
