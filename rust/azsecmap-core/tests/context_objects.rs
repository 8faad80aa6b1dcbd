//! `resourceGroup().x` and `subscription().x` read one property without building the object.
//! Each read must give what reading the same member of the whole object gives (the object is
//! reached through `createArray(...)[0]`, which the shortcut does not see), errors included,
//! and a caller-set object (`EvalOptions`) must win over the one made from the resource id.

#![allow(clippy::unwrap_used, clippy::panic)]

use azsecmap_core::policy::PolicyDefinition;
use azsecmap_core::EvalOptions;
use serde_json::{json, Value};

fn resource() -> Value {
    json!({
        "id": "/subscriptions/sub-1/resourceGroups/Rg-One/providers/Microsoft.Storage/storageAccounts/a",
        "type": "Microsoft.Storage/storageAccounts",
        "name": "a",
        "location": "westeurope"
    })
}

/// `Ok(matched)` of `value: left, equals: right`, or `Err` when the pair fails to evaluate.
fn decide(left: &str, right: &str, options: &EvalOptions) -> Result<bool, String> {
    let rule = json!({"if": {"value": left, "equals": right}, "then": {"effect": "audit"}});
    let policy = PolicyDefinition::from_value(&rule, "ctx")
        .unwrap()
        .bind(&serde_json::Map::new())
        .unwrap();
    policy
        .decide(&resource(), options, false)
        .map(|d| d.matched)
        .map_err(|e| e.to_string())
}

fn same_as_whole_object(function: &str, keys: &[&str], options: &EvalOptions) {
    for key in keys {
        let short = format!("[{function}().{key}]");
        let whole = format!("[createArray({function}())[0].{key}]");
        match (
            decide(&short, &whole, options),
            decide(&whole, &whole, options),
        ) {
            (Ok(a), Ok(b)) => assert!(a && b, "{short} differs from {whole}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{short}: {a:?}, whole object: {b:?}"),
        }
    }
}

#[test]
fn one_property_equals_the_member_of_the_whole_object() {
    let rg = [
        "id",
        "name",
        "NAME",
        "type",
        "location",
        "managedBy",
        "tags",
        "properties",
        "nope",
    ];
    let sub = [
        "id",
        "subscriptionId",
        "SUBSCRIPTIONID",
        "tenantId",
        "displayName",
        "nope",
    ];
    let defaults = EvalOptions::default();
    same_as_whole_object("resourceGroup", &rg, &defaults);
    same_as_whole_object("subscription", &sub, &defaults);
    assert_eq!(
        decide("[resourceGroup().name]", "Rg-One", &defaults),
        Ok(true)
    );
    assert_eq!(
        decide(
            "[resourceGroup().properties.provisioningState]",
            "Succeeded",
            &defaults
        ),
        Ok(true)
    );
    assert_eq!(
        decide("[subscription().subscriptionId]", "sub-1", &defaults),
        Ok(true)
    );
    assert!(decide("[resourceGroup().nope]", "x", &defaults).is_err());

    let set = EvalOptions {
        resource_group: Some(json!({"name": "given", "managedBy": "someone"})),
        subscription: Some(json!({"subscriptionId": "sub-given"})),
        ..EvalOptions::default()
    };
    same_as_whole_object("resourceGroup", &rg, &set);
    same_as_whole_object("subscription", &sub, &set);
    assert_eq!(decide("[resourceGroup().name]", "given", &set), Ok(true));
    assert_eq!(
        decide("[resourceGroup().managedBy]", "someone", &set),
        Ok(true)
    );
    assert_eq!(
        decide("[subscription().subscriptionId]", "sub-given", &set),
        Ok(true)
    );
}
