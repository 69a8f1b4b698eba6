//! The console's dashboard counts.

use actix_web::{get, web};

use crate::api::session::SignedIn;
use crate::app::queues::{self, Queues};
use crate::config::PortalSettings;
use crate::db::Db;
use crate::domain::time;
use crate::error::ApiError;

/// Per programme, the submitted applications in each status; and the counts of the reviewer's and
/// finance's queues today. Read from maintained counters and covering indexes, so it stays cheap at any size.
#[utoipa::path(tag = "reports", security(("bearer" = [])), responses(
    (status = 200, description = "the counts", body = Queues),
))]
#[get("/queues")]
pub async fn queue_counts(
    user: SignedIn,
    db: web::Data<Db>,
    portal: web::Data<PortalSettings>,
) -> Result<web::Json<Queues>, ApiError> {
    Ok(web::Json(queues::counts(&db, &user, time::today(portal.utc_offset)).await?))
}
