//! Public notices (公示): anyone may read what is proposed for support and lodge a real-name objection
//! while the notice runs; reviewers resolve each objection.

use std::net::IpAddr;

use chrono::NaiveDate;
use serde_json::json;

use crate::app::applications::{find_visible, status_of};
use crate::app::caller::anonymous;
use crate::app::programs::Program;
use crate::app::{Error, Result, SignedIn, throttle};
use crate::db::applications::{self, ApplicationRecord};
use crate::db::audit::{self, Event};
use crate::db::objections::{self, NewObjection, ObjectionRow};
use crate::db::{Db, outbox, users};
use crate::domain::error::Error as Refusal;
use crate::domain::role::Role;
use crate::domain::{limits, time, workflow};
use crate::email::templates;
use crate::i18n::Text;

/// Applications in public notice on `today`, soonest ending first, with the total.
pub async fn notices(
    db: &Db,
    today: NaiveDate,
    start: crate::db::Start<(NaiveDate, i64)>,
    limit: i64,
) -> Result<(Vec<ApplicationRecord>, i64)> {
    Ok(db.read(move |conn| applications::in_notice(conn, today, start, limit)).await?)
}

/// An objection as the public sends it, already checked for its lengths.
#[derive(Debug)]
pub struct Objection {
    pub name: String,
    pub contact: String,
    pub organization: Option<String>,
    pub content: String,
}

/// Lodges an objection to an application while its notice runs; reviewers are told. `client` is the
/// caller's address: its rate limit is counted first and on its own, so probing for applications in
/// notice is limited too.
pub async fn lodge(
    db: &Db,
    request_id: &str,
    client: IpAddr,
    id: i64,
    objection: Objection,
    today: NaiveDate,
) -> Result<ObjectionRow> {
    let key = format!("objection:addr:{}", limits::client_key(client));
    db.write(move |conn| throttle::consume(conn, &key, limits::OBJECTIONS_PER_ADDRESS, time::now())).await?;
    let actor = anonymous(request_id);
    db.write(move |conn| {
        let record = applications::find(conn, id)?;
        let notice_days = Program::load(conn, record.application.program_id)?.public_notice_days;
        let status = status_of(&record)?;
        if !workflow::notice_running(status, record.application.notice_ends_on, notice_days, today) {
            return Err(Refusal::conflict(
                "notice_closed",
                Text::new(
                    "该申报现不在公示期内，不受理异议。",
                    "This application is not in public notice now; objections are not accepted.",
                ),
            )
            .into());
        }
        let now = time::now();
        let new = NewObjection {
            application_id: id,
            name: objection.name.trim(),
            contact: objection.contact.trim(),
            organization: objection.organization.as_deref().map(str::trim).filter(|o| !o.is_empty()),
            content: objection.content.trim(),
        };
        let row = objections::lodge(conn, &new, now)?;
        let reference_no = record.application.reference_no.clone().unwrap_or_default();
        for reviewer in users::active_with_role(conn, Role::Reviewer)? {
            outbox::enqueue(
                conn,
                &templates::objection_lodged(&reviewer.email, &reference_no, &row.name, &row.content),
                now,
            )?;
        }
        audit::append(
            conn,
            &actor,
            Event::new("objection.lodge", "application", id, json!({ "objection_id": row.id })),
        )?;
        Ok::<_, Error>(row)
    })
    .await
}

/// The objections to an application (reviewers and admins).
pub async fn list(db: &Db, caller: &SignedIn, id: i64) -> Result<Vec<ObjectionRow>> {
    caller.require(&[Role::Reviewer, Role::Admin])?;
    let user = caller.clone();
    db.read(move |conn| {
        find_visible(conn, &user, id)?;
        Ok(objections::of_application(conn, id)?)
    })
    .await
}

/// Resolves an objection, once (reviewers).
pub async fn resolve(
    db: &Db,
    caller: &SignedIn,
    id: i64,
    objection_id: i64,
    upheld: bool,
    comment: &str,
) -> Result<ObjectionRow> {
    caller.require(&[Role::Reviewer])?;
    let comment = comment.trim().to_owned();
    if comment.is_empty() {
        return Err(Refusal::field(
            "comment",
            "required",
            Text::new("请填写处理意见。", "Say how the objection was resolved."),
        )
        .into());
    }
    let (user, actor) = (caller.clone(), caller.actor());
    db.write(move |conn| {
        find_visible(conn, &user, id)?;
        let exists = objections::of_application(conn, id)?.into_iter().any(|o| o.id == objection_id);
        if !exists {
            return Err(Refusal::NotFound.into());
        }
        if !objections::resolve(conn, id, objection_id, user.user_id, upheld, &comment, time::now())? {
            return Err(Refusal::conflict(
                "conflict",
                Text::new("该异议已处理。", "This objection has been resolved already."),
            )
            .into());
        }
        let summary = json!({ "objection_id": objection_id, "upheld": upheld, "comment": comment });
        audit::append(conn, &actor, Event::new("objection.resolve", "application", id, summary))?;
        objections::of_application(conn, id)?.into_iter().find(|o| o.id == objection_id).ok_or(Refusal::NotFound.into())
    })
    .await
}
