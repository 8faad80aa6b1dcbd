//! Which conditions explain a decision (the steps a trace keeps): a short-circuiting child of
//! `allOf`/`anyOf` alone, every child when none short-circuits, and `not` flipping the sense of
//! what it wraps.

#![allow(clippy::unwrap_used)]

use azsecmap_core::policy::PolicyDefinition;
use azsecmap_core::EvalOptions;
use serde_json::json;

/// `(pointer, result, negated)` of each reason for `cond` on a storage account with
/// `supportsHttpsTrafficOnly: false` and `minimumTlsVersion: TLS1_0`.
fn steps(cond: serde_json::Value) -> (bool, Vec<(String, bool, bool)>) {
    let def =
        PolicyDefinition::from_value(&json!({"if": cond, "then": {"effect": "audit"}}), "reasons")
            .unwrap();
    let policy = def.bind(&serde_json::Map::new()).unwrap();
    let resource = json!({
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a",
        "type": "Microsoft.Storage/storageAccounts",
        "name": "a",
        "properties": {"supportsHttpsTrafficOnly": false, "minimumTlsVersion": "TLS1_0"}
    });
    let d = policy
        .decide(&resource, &EvalOptions::default(), true)
        .unwrap();
    let steps = d
        .reasons
        .iter()
        .map(|r| (r.pointer.clone(), r.result, r.negated))
        .collect();
    (d.matched, steps)
}

fn is_type() -> serde_json::Value {
    json!({"field": "type", "equals": "Microsoft.Storage/storageAccounts"})
}
fn https(v: bool) -> serde_json::Value {
    json!({"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "equals": v})
}
fn tls(v: &str) -> serde_json::Value {
    json!({"field": "Microsoft.Storage/storageAccounts/minimumTlsVersion", "equals": v})
}
fn at(p: &str) -> String {
    format!("/if{p}")
}

#[test]
fn all_of_that_fails_is_explained_by_the_failing_child_alone() {
    let (matched, got) = steps(json!({"allOf": [is_type(), https(true), tls("TLS1_0")]}));
    assert!(!matched);
    assert_eq!(got, [(at("/allOf/1"), false, false)]);
}

#[test]
fn all_of_that_holds_is_explained_by_every_child_in_order() {
    let (matched, got) = steps(json!({"allOf": [is_type(), https(false), tls("TLS1_0")]}));
    assert!(matched);
    let want: Vec<_> = (0..3)
        .map(|i| (at(&format!("/allOf/{i}")), true, false))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn any_of_is_explained_by_the_child_that_holds_and_nested_groups_keep_their_own_cut() {
    let cond = json!({"anyOf": [
        https(true),
        {"allOf": [is_type(), tls("TLS1_2")]},
        {"allOf": [is_type(), https(false)]},
        tls("TLS1_0")
    ]});
    let (matched, got) = steps(cond);
    assert!(matched);
    assert_eq!(
        got,
        [
            (at("/anyOf/2/allOf/0"), true, false),
            (at("/anyOf/2/allOf/1"), true, false)
        ]
    );
    // No child holds: every child's explanation is kept, each group cut to its failing child.
    let (matched, got) =
        steps(json!({"anyOf": [https(true), {"allOf": [is_type(), tls("TLS1_2")]}]}));
    assert!(!matched);
    assert_eq!(
        got,
        [
            (at("/anyOf/0"), false, false),
            (at("/anyOf/1/allOf/1"), false, false)
        ]
    );
}

#[test]
fn not_flips_the_sense_of_every_step_below_it_once_per_level() {
    let (matched, got) = steps(json!({"allOf": [
        is_type(),
        {"not": {"anyOf": [https(true), tls("TLS1_2")]}},
        {"not": {"not": https(false)}}
    ]}));
    assert!(matched);
    assert_eq!(
        got,
        [
            (at("/allOf/0"), true, false),
            (at("/allOf/1/not/anyOf/0"), false, true),
            (at("/allOf/1/not/anyOf/1"), false, true),
            (at("/allOf/2/not/not"), true, false),
        ]
    );
}
