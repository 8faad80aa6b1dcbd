//! The default rule pack: our own policy definitions in the Azure Policy language, one per file
//! under `frameworks/rules/<service>/`, embedded at build time by `build.rs` so that a wheel
//! carries them. Each definition's `properties.metadata.azsecmap` names the controls it gives
//! evidence for, the Microsoft built-ins that check the same thing, and a severity.

/// Every bundled rule file as `(path relative to frameworks/rules, JSON text)`, sorted by path.
pub fn default_rules() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/default_rules.rs"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::default_rules;
    use crate::policy::PolicyDefinition;

    #[test]
    fn every_bundled_rule_compiles() {
        let rules = default_rules();
        assert!(rules.len() >= 80, "only {} rules", rules.len());
        for (path, text) in rules {
            let value: serde_json::Value =
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{path}: {e}"));
            let def = PolicyDefinition::from_value(&value, path)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(def.name.starts_with("azsecmap-"), "{path}: {}", def.name);
        }
    }
}
