//! Allocating a programme's budget over a batch of applications in expert review (按比例核减): the
//! reviewer picks the programme and the applications, sees each one's cap and award in a dry run, and
//! confirms the figures seen; both through the same use case as the API.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;

use crate::app::allocation::{self, Batch, Item, Outcome};
use crate::app::applications::{self, ApplicationView, ListQuery};
use crate::app::programs::{self, Listing, Program};
use crate::config::PortalSettings;
use crate::console::applications::Fields;
use crate::console::failure::{Failure, explain, refused_status};
use crate::console::session::{Posted, Staff, see_other};
use crate::console::view::Frame;
use crate::db::{Db, Start};
use crate::domain::allocation::AllocationMethod;
use crate::domain::error::{Error as Refusal, FieldError};
use crate::domain::time;
use crate::domain::workflow::Status;
use crate::i18n::Text;

/// How many applications in expert review the page offers at once.
const CANDIDATES: i64 = 200;

#[derive(Template)]
#[template(path = "console/allocation.html")]
struct AllocationPage {
    frame: Frame,
    programs: Vec<Program>,
    program_id: Option<i64>,
    method: AllocationMethod,
    candidates: Vec<ApplicationView>,
    chosen: Vec<i64>,
    preview: Option<Outcome>,
    problem: Vec<Text>,
}

impl AllocationPage {
    #[expect(clippy::trivially_copy_pass_by_ref, reason = "templates hand fields over by reference")]
    fn is_program(&self, id: &i64) -> bool {
        self.program_id == Some(*id)
    }

    #[expect(clippy::trivially_copy_pass_by_ref, reason = "templates hand fields over by reference")]
    fn is_chosen(&self, id: &i64) -> bool {
        self.chosen.contains(id)
    }

    fn method_is(&self, method: &str) -> bool {
        self.method.as_str() == method
    }

    /// What the allocation cut from the item's cap, as money.
    fn cut(&self, item: &Item) -> String {
        self.frame.money(&(item.capped_fen - item.approved_fen))
    }
}

/// The programme, method and applications a form names; what it cannot read, as field errors.
struct Chosen {
    program_id: Option<i64>,
    method: AllocationMethod,
    ids: Vec<i64>,
    versions: Vec<i32>,
    errors: Vec<FieldError>,
}

fn chosen(fields: &Fields) -> Chosen {
    let mut errors = Vec::new();
    let program_id = fields.number::<i64>("program_id", &mut errors);
    let method = match fields.get("method") {
        None => AllocationMethod::ProRata,
        Some(raw) => AllocationMethod::parse(raw).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "method",
                "invalid",
                Text::owned(format!("无法识别“{raw}”。"), format!("“{raw}” is not understood.")),
            ));
            AllocationMethod::ProRata
        }),
    };
    let ids = fields.all("ids").filter_map(|v| v.parse().ok()).collect();
    let versions = fields.all("versions").filter_map(|v| v.parse().ok()).collect();
    Chosen { program_id, method, ids, versions, errors }
}

/// What the page shows besides the form: the dry run's figures, what the last confirmation did, or why it
/// was refused.
#[derive(Default)]
struct Shown {
    dry_run: bool,
    notice: Option<Text>,
    refused: Option<Refusal>,
}

async fn page(
    staff: &Staff,
    db: &Db,
    portal: &PortalSettings,
    form: &Chosen,
    shown: Shown,
) -> Result<HttpResponse, Failure> {
    let Shown { dry_run, notice, refused } = shown;
    let listing = Listing::default();
    let (programs, _) = programs::list(db, Some(&staff.caller), listing, Start::Offset(0), 100).await?;
    let today = time::today(portal.utc_offset);
    let candidates = match form.program_id {
        Some(program_id) => {
            let query = ListQuery {
                status: Some(Status::ExpertReview),
                program_id: Some(program_id),
                company_id: None,
                submitted_from: None,
                submitted_to: None,
                q: None,
                start: Start::Offset(0),
                limit: CANDIDATES,
            };
            let (seen, _) = applications::list(db, &staff.caller, query, portal.utc_offset, today).await?;
            seen.into_iter().map(ApplicationView::from).collect()
        }
        None => Vec::new(),
    };
    let mut problem = explain_all(&form.errors);
    let mut status = actix_web::http::StatusCode::OK;
    if let Some(refusal) = &refused {
        status = refused_status(refusal);
        problem.extend(explain(refusal));
    }
    let preview = match (dry_run, form.program_id) {
        (true, Some(program_id)) if form.errors.is_empty() => {
            let batch = Batch { application_ids: form.ids.clone(), method: form.method, dry_run: true, versions: None };
            match allocation::allocate_batch(db, &staff.caller, program_id, batch, today, Utc::now()).await {
                Ok(outcome) => Some(outcome),
                Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
                    status = refused_status(&refusal);
                    problem.extend(explain(&refusal));
                    None
                }
                Err(error) => return Err(error.into()),
            }
        }
        _ => None,
    };
    if !form.errors.is_empty() {
        status = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    let frame =
        Frame::new(staff, Text::new("按比例核减", "Budget allocation"), "/console/allocation").with_notice(notice);
    let page = AllocationPage {
        frame,
        programs,
        program_id: form.program_id,
        method: form.method,
        candidates,
        chosen: form.ids.clone(),
        preview,
        problem,
    };
    Ok(HttpResponse::build(status).content_type(mime::TEXT_HTML_UTF_8).body(page.render()?))
}

fn explain_all(errors: &[FieldError]) -> Vec<Text> {
    if errors.is_empty() { Vec::new() } else { explain(&Refusal::invalid(errors.to_vec())) }
}

/// The programme to allocate, its applications in expert review, and with `preview` the dry run's figures.
pub async fn show(
    staff: Staff,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Failure> {
    let fields = Fields::new(query.into_inner());
    let notice = fields.get("done").map(|_| {
        Text::new(
            "已按试算金额拟支持，各申报进入公示。",
            "The awards are proposed as previewed; the notices have started.",
        )
    });
    let shown = Shown { dry_run: fields.get("preview").is_some(), notice, refused: None };
    page(&staff, &db, &portal, &chosen(&fields), shown).await
}

/// Proposes every listed application at the award the reviewer saw, all or nothing.
pub async fn confirm(
    posted: Posted<Vec<(String, String)>>,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
) -> Result<HttpResponse, Failure> {
    let (staff, fields) = (posted.staff, Fields::new(posted.form));
    let form = chosen(&fields);
    let Some(program_id) = form.program_id.filter(|_| form.errors.is_empty()) else {
        return page(&staff, &db, &portal, &form, Shown::default()).await;
    };
    let versions = Some(form.versions.clone());
    let batch = Batch { application_ids: form.ids.clone(), method: form.method, dry_run: false, versions };
    let today = time::today(portal.utc_offset);
    match allocation::allocate_batch(&db, &staff.caller, program_id, batch, today, Utc::now()).await {
        Ok(_) => Ok(see_other(&format!("/console/allocation?program_id={program_id}&done=allocated"))),
        Err(crate::app::Error::Refused(refusal)) if refusal != Refusal::NotFound => {
            page(&staff, &db, &portal, &form, Shown { dry_run: true, notice: None, refused: Some(refusal) }).await
        }
        Err(error) => Err(error.into()),
    }
}
