//! Pages of the short lists (sites, forms, fields, tokens): read whole from the store, in
//! their own order, and cut here, so every list takes the same `limit` and `cursor` as the
//! lead and event lists. The cursor is the id of the last item of the page before.

use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::nonempty;
use super::leads::{parse_cursor, parse_limit};
use crate::domain::model::Id;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

/// One page of `items`; without a `limit`, all of them (these lists are short, and the
/// dashboard shows them whole).
pub fn page<T: Serialize>(items: Vec<T>, id: impl Fn(&T) -> Id, query: &PageQuery) -> ApiResult<Json<Value>> {
    let cursor = parse_cursor(&query.cursor)?;
    page_by(items, id, cursor, query)
}

/// [`page`] for a list whose items have no id, keyed by a text of theirs (the selector of a
/// discovered form): the cursor is that text.
pub fn page_by_text<T: Serialize>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    query: &PageQuery,
) -> ApiResult<Json<Value>> {
    let cursor = nonempty(&query.cursor).map(str::to_string);
    page_by(items, key, cursor, query)
}

fn page_by<T: Serialize, K: PartialEq + Serialize>(
    items: Vec<T>,
    key: impl Fn(&T) -> K,
    cursor: Option<K>,
    query: &PageQuery,
) -> ApiResult<Json<Value>> {
    let limit = match nonempty(&query.limit) {
        Some(_) => parse_limit(&query.limit)?,
        None => usize::MAX,
    };
    let start = match cursor {
        None => 0,
        Some(cursor) => items.iter().position(|item| key(item) == cursor).map(|i| i + 1).ok_or_else(|| {
            ApiError::invalid_param("cursor", "names no item of this list (deleted since?); start again without it")
        })?,
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = (rest.len() > limit).then(|| key(&rest[limit - 1]));
    rest.truncate(limit);
    Ok(Json(json!({"items": rest, "nextCursor": next})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn pages_follow_the_list_order_and_end_with_no_cursor() {
        let ids: Vec<Id> = (0..5).map(|i| Uuid::from_u128(100 - i)).collect(); // not in id order
        let q = |cursor: Option<Id>, limit: &str| PageQuery {
            cursor: cursor.map(|c| c.to_string()),
            limit: Some(limit.to_string()),
        };
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let Json(v) = page(ids.clone(), |i| *i, &q(cursor, "2")).unwrap();
            seen.extend(v["items"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_string()));
            match v["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.parse().unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, ids.iter().map(|i| i.to_string()).collect::<Vec<_>>());
        let many: Vec<Id> = (0..600).map(Uuid::from_u128).collect();
        let Json(all) = page(many, |i| *i, &PageQuery::default()).unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 600, "no limit: the whole list");
        assert!(all["nextCursor"].is_null());
        assert!(page(ids.clone(), |i| *i, &q(Some(Uuid::from_u128(7)), "2")).is_err());
        assert!(page(ids, |i| *i, &q(None, "501")).is_err());
    }
}
