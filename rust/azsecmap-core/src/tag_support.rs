//! Which resource types support tags, from Microsoft's documented per-type tag support
//! (bundled as `frameworks/tag-support.csv`). `mode: Indexed` policies only evaluate types
//! that support tags and location.

use std::collections::HashMap;
use std::sync::OnceLock;

static TAG_SUPPORT_CSV: &str = include_str!("../../../frameworks/tag-support.csv");

fn table() -> &'static HashMap<String, bool> {
    static TABLE: OnceLock<HashMap<String, bool>> = OnceLock::new();
    TABLE.get_or_init(|| {
        TAG_SUPPORT_CSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut cols = line.split(',');
                let (t, s) = (cols.next()?, cols.next()?);
                Some((
                    t.trim().to_ascii_lowercase(),
                    s.trim().eq_ignore_ascii_case("true"),
                ))
            })
            .collect()
    })
}

/// Whether `resource_type` supports tags: `Some(true/false)` when the table lists it,
/// `None` when it does not.
pub fn supports_tags(resource_type: &str) -> Option<bool> {
    table().get(&resource_type.to_ascii_lowercase()).copied()
}

/// Whether a `mode: Indexed` policy evaluates resources of `resource_type`. Resource groups and
/// subscriptions are never evaluated in Indexed mode; a type the table does not list is
/// evaluated (we do not drop resources on missing knowledge).
pub fn indexed_applies(resource_type: &str) -> bool {
    const NEVER: [&str; 3] = [
        "Microsoft.Resources/subscriptions/resourceGroups",
        "Microsoft.Resources/resourceGroups",
        "Microsoft.Resources/subscriptions",
    ];
    if NEVER.iter().any(|t| t.eq_ignore_ascii_case(resource_type)) {
        return false;
    }
    supports_tags(resource_type).unwrap_or(true)
}

/// Number of types in the bundled table.
pub fn table_len() -> usize {
    table().len()
}
