//! Provider reports over the API (D3): a provider's users see only their own.

use super::{ApiError, ApiQuery, AppState, SignedIn};
use crate::reports::ProviderReport;
use axum::Json;
use axum::extract::State;
use esep_core::Period;
use esep_core::api::Role;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    bin: String,
    period: Period,
}

pub async fn provider(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<ProviderReport>, ApiError> {
    let Some((provider_id, _)) = state.db.provider_id_by_bin(&q.bin).await? else {
        return Err(ApiError::NotFound(format!(
            "no provider with BIN {}",
            q.bin
        )));
    };
    let allowed = match user.role {
        Role::Provider => user.provider_id == Some(provider_id),
        Role::Operator | Role::Auditor => true,
        Role::Consumer | Role::Authority => false,
    };
    if !allowed {
        state
            .db
            .journal(
                Some(user.id),
                "provider-report",
                &format!("provider:{provider_id}"),
                "denied",
                None,
            )
            .await?;
        return Err(ApiError::Forbidden(
            "a provider's users see only their own provider's reports".into(),
        ));
    }
    let report = state.db.provider_report(&q.bin, q.period).await?;
    report
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such provider".into()))
}
