//! Accountability reports over the ledger: pages through it from position 1 up to the head
//! it finds when it starts, decoding each entry and feeding it to the domain's
//! [`ReportBuilder`], which keeps only a compact state per complaint. Reading up to a fixed head
//! makes the report a function of the ledger prefix it names (`through_position`): the same
//! ledger and parameters always give the same report.

use obliged_domain::{AccountabilityReport, ComplaintEvent, Policy, ReportBuilder, ReportParams};
use uuid::Uuid;

use obliged_storage::{Ledger, LedgerError};

/// How many ledger entries one read takes.
pub const REPORT_PAGE: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("ledger entry {position} does not decode: {reason}")]
    Decode { position: u64, reason: String },
}

/// The accountability report of the ledger as it stands, under `policy`'s calendar and teams.
pub async fn accountability_report(
    ledger: &Ledger,
    policy: &Policy,
    params: ReportParams,
) -> Result<AccountabilityReport, ReportError> {
    let head = ledger.head_position().await?;
    let mut builder = ReportBuilder::new(params, policy);
    let mut after = 0;
    while after < head {
        let limit = REPORT_PAGE.min((head - after) as usize);
        let entries = ledger.entries_after(after, limit).await?;
        let Some(last) = entries.last() else {
            break;
        };
        let last = last.position;
        for entry in entries {
            let decode = |reason: String| ReportError::Decode {
                position: entry.position,
                reason,
            };
            let complaint_id = Uuid::parse_str(&entry.complaint_id)
                .map_err(|error| decode(format!("complaint id: {error}")))?;
            let event: ComplaintEvent = serde_json::from_str(&entry.payload)
                .map_err(|error| decode(format!("event: {error}")))?;
            builder.push(entry.position, complaint_id, &event);
        }
        after = last;
    }
    Ok(builder.finish())
}
