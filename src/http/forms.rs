//! Forms, their fields and field mappings (original §5.1), and forms the tracker
//! discovered on a site that nobody configured yet.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Admin;
use super::error::{ApiError, ApiResult};
use super::extract::{JsonBody, PathParam, QueryParams, parse_id};
use super::page::{PageQuery, page, page_by_text};
use crate::app::App;
use crate::domain::model::{Field, FieldMapping, Form};
use crate::domain::site::{FieldInput, FormInput, MappingInput};
use crate::store::queries;

pub fn router() -> Router<App> {
    Router::new()
        .route("/v1/clients/{client_id}/forms", get(list_forms).post(create_form))
        .route("/v1/forms/{form_id}", get(show_form).put(update_form).delete(delete_form))
        .route("/v1/forms/{form_id}/fields", get(list_fields).post(create_field))
        .route("/v1/fields/{field_id}", get(show_field).put(update_field).delete(delete_field))
        .route("/v1/fields/{field_id}/mapping", get(show_mapping).post(create_mapping))
        .route("/v1/mappings/{mapping_id}", put(update_mapping).delete(delete_mapping).get(show_mapping_by_id))
        .route("/v1/clients/{client_id}/discovered-forms", get(discovered))
        .route("/v1/clients/{client_id}/discovered-forms/promote", post(promote))
}

async fn list_forms(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("clientId", &id)?;
    let forms = app
        .read(move |txn| {
            queries::require_client(txn, &id)?;
            queries::list_forms(txn, &id)
        })
        .await?;
    page(forms, |f| f.form_id, &q)
}

async fn create_form(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<FormInput>,
) -> ApiResult<(StatusCode, Json<Form>)> {
    let id = parse_id("clientId", &id)?;
    Ok((StatusCode::CREATED, Json(app.create_form(id, input).await?)))
}

async fn show_form(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Value>> {
    let id = parse_id("formId", &id)?;
    let (form, fields) = app
        .read(move |txn| {
            let form = queries::get_form(txn, &id)?.ok_or(crate::store::StoreError::NotFound("form"))?;
            let mut fields = Vec::new();
            for field in queries::list_fields(txn, &id)? {
                let mapping = queries::mapping_for_field(txn, &field.field_id)?;
                fields.push((field, mapping));
            }
            Ok((form, fields))
        })
        .await?;
    let mut value = serde_json::to_value(form).map_err(ApiError::internal)?;
    value["fields"] = fields
        .into_iter()
        .map(|(f, m)| {
            let mut v = serde_json::to_value(f).unwrap_or_default();
            v["mapping"] = serde_json::to_value(m).unwrap_or_default();
            v
        })
        .collect();
    Ok(Json(value))
}

async fn update_form(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<FormInput>,
) -> ApiResult<Json<Form>> {
    let id = parse_id("formId", &id)?;
    Ok(Json(app.update_form(id, input).await?))
}

async fn delete_form(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<StatusCode> {
    let id = parse_id("formId", &id)?;
    app.delete_form(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_fields(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("formId", &id)?;
    let fields = app
        .read(move |txn| {
            queries::get_form(txn, &id)?.ok_or(crate::store::StoreError::NotFound("form"))?;
            queries::list_fields(txn, &id)
        })
        .await?;
    page(fields, |f| f.field_id, &q)
}

async fn create_field(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<FieldInput>,
) -> ApiResult<(StatusCode, Json<Field>)> {
    let id = parse_id("formId", &id)?;
    Ok((StatusCode::CREATED, Json(app.create_field(id, input).await?)))
}

async fn show_field(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<Json<Field>> {
    let id = parse_id("fieldId", &id)?;
    let field =
        app.read(move |txn| queries::get_field(txn, &id)).await?.ok_or(ApiError::NotFound("field not found".into()))?;
    Ok(Json(field))
}

async fn update_field(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<FieldInput>,
) -> ApiResult<Json<Field>> {
    let id = parse_id("fieldId", &id)?;
    Ok(Json(app.update_field(id, input).await?))
}

async fn delete_field(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<StatusCode> {
    let id = parse_id("fieldId", &id)?;
    app.delete_field(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The field's mapping, or `null` when it has none (a field without a mapping is normal).
async fn show_mapping(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Option<FieldMapping>>> {
    let id = parse_id("fieldId", &id)?;
    let mapping = app
        .read(move |txn| {
            queries::get_field(txn, &id)?.ok_or(crate::store::StoreError::NotFound("field"))?;
            queries::mapping_for_field(txn, &id)
        })
        .await?;
    Ok(Json(mapping))
}

async fn show_mapping_by_id(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<FieldMapping>> {
    let id = parse_id("mappingId", &id)?;
    let mapping = app
        .read(move |txn| queries::get_mapping(txn, &id))
        .await?
        .ok_or(ApiError::NotFound("mapping not found".into()))?;
    Ok(Json(mapping))
}

async fn create_mapping(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<MappingInput>,
) -> ApiResult<(StatusCode, Json<FieldMapping>)> {
    let id = parse_id("fieldId", &id)?;
    Ok((StatusCode::CREATED, Json(app.create_mapping(id, input).await?)))
}

async fn update_mapping(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(input): JsonBody<MappingInput>,
) -> ApiResult<Json<FieldMapping>> {
    let id = parse_id("mappingId", &id)?;
    Ok(Json(app.update_mapping(id, input).await?))
}

async fn delete_mapping(_: Admin, State(app): State<App>, PathParam(id): PathParam<String>) -> ApiResult<StatusCode> {
    let id = parse_id("mappingId", &id)?;
    app.delete_mapping(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn discovered(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<Value>> {
    let id = parse_id("clientId", &id)?;
    let forms = app
        .read(move |txn| {
            queries::require_client(txn, &id)?;
            let configured: Vec<String> = queries::list_forms(txn, &id)?
                .into_iter()
                .flat_map(|f| std::iter::once(f.form_selector).chain(f.alternative_selectors))
                .collect();
            // Forms configured since they were discovered are no longer "discovered".
            Ok(queries::discovered_forms(txn, &id)?
                .into_iter()
                .filter(|d| !configured.contains(&d.selector))
                .collect::<Vec<_>>())
        })
        .await?;
    page_by_text(forms, |f| f.selector.clone(), &q)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PromoteBody {
    selector: String,
    form_name: Option<String>,
}

async fn promote(
    _: Admin,
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    JsonBody(body): JsonBody<PromoteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = parse_id("clientId", &id)?;
    let (form, fields) = app.promote_discovered(id, body.selector, body.form_name).await?;
    let mut value = serde_json::to_value(form).map_err(ApiError::internal)?;
    value["fields"] = serde_json::to_value(fields).map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(value)))
}
