//! The benchmarks' stack ceiling: the least a database request can cost through the same extractors,
//! pool and blocking threads as every handler. Compiled only with the `bench` feature.

use actix_web::{get, web};
use diesel::prelude::*;

use crate::db::Db;
use crate::db::schema::programs;
use crate::error::ApiError;

/// One primary-key SELECT.
#[utoipa::path(tag = "service", params(("id" = i64, Path, description = "programme id")),
    responses((status = 200, description = "the programme's code", body = String, content_type = "application/json")))]
#[get("/bench/primary-key/{id}")]
pub async fn primary_key(db: web::Data<Db>, id: web::Path<i64>) -> Result<web::Json<String>, ApiError> {
    let id = id.into_inner();
    let code = db
        .read(move |conn| {
            Ok::<_, crate::db::Error>(programs::table.find(id).select(programs::code).first::<String>(conn)?)
        })
        .await?;
    Ok(web::Json(code))
}
