//! The stat probe as modules use it: the types live in [`drover_core::probe`]; these helpers turn
//! probe failures into module errors.

use drover_core::connection::HostConnection;
use drover_core::module::ModuleError;

pub use drover_core::probe::{
    parse_probe, probe_script, FileType, PathStat, ProbeRequest, StatInfo,
};

/// Probes `requests` in one round trip (or none, when they were read ahead) and returns one
/// [`PathStat`] per request.
pub async fn probe(
    conn: &HostConnection,
    requests: &[ProbeRequest],
) -> Result<Vec<PathStat>, ModuleError> {
    Ok(conn.probe(requests).await?)
}

/// Probes a single path.
pub async fn probe_one(
    conn: &HostConnection,
    request: ProbeRequest,
) -> Result<PathStat, ModuleError> {
    let mut stats = probe(conn, std::slice::from_ref(&request)).await?;
    Ok(stats.pop().unwrap_or(PathStat {
        path: request.path,
        info: None,
    }))
}
