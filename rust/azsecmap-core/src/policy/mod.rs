//! Policy definitions: the three accepted shapes (an exported definition, its `properties`, a
//! bare `{"if", "then"}` rule), `parameters` with types, defaults and allowed values, `mode`,
//! and the `then` block (effect and details). Compiling yields a [`PolicyDefinition`];
//! binding parameter values to it yields a [`BoundPolicy`] ready to evaluate resources.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::alias::AliasTable;
use crate::compare::brief;
use crate::error::{pointer_token, EvaluationError, PolicyError};
use crate::expr::{self, Expr};
use crate::field::{self, FieldRef};
use crate::rule::compile::{compile_condition, compile_operand};
use crate::rule::eval::{Env, EvalOptions, Evaluator, Reason};
use crate::rule::{Cond, Operand};
use crate::tag_support;

mod fold;
mod parameters;

use fold::{
    collect_field_calls, find_param_refs, fold_cond, fold_operand, walk_exprs, walk_fields,
};
use parameters::{check_value, parse_parameters};
pub use parameters::{ParamType, ParameterDef};

/// A definition's `mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Every resource type, resource groups and subscriptions included.
    All,
    /// Only resource types that support tags and location.
    Indexed,
    /// A resource-provider (data-plane) mode such as `Microsoft.Kubernetes.Data`: recognised,
    /// not evaluated.
    ResourceProvider(String),
}

impl Mode {
    /// Why this mode keeps a policy off resources of `resource_type`, if it does: `Indexed`
    /// only evaluates types that support tags and location; resource-provider modes evaluate
    /// data-plane objects, which azsecmap does not.
    pub fn excludes(&self, resource_type: &str) -> Option<String> {
        match self {
            Mode::All => None,
            Mode::Indexed if tag_support::indexed_applies(resource_type) => None,
            Mode::Indexed => Some(format!(
                "mode Indexed skips `{resource_type}`: the type does not support tags and location"
            )),
            Mode::ResourceProvider(m) => Some(format!(
                "resource-provider mode `{m}` evaluates data-plane objects, which azsecmap does not support"
            )),
        }
    }

    /// The mode as Azure writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Mode::All => "All",
            Mode::Indexed => "Indexed",
            Mode::ResourceProvider(m) => m,
        }
    }
}

/// The effects the policy language knows (lower-case).
pub const KNOWN_EFFECTS: &[&str] = &[
    "append",
    "audit",
    "auditifnotexists",
    "deny",
    "denyaction",
    "deployifnotexists",
    "disabled",
    "manual",
    "modify",
    "mutate",
    "addtonetworkgroup",
    "auditaction",
    "enforceregopolicy",
    "enforcesetting",
];

/// A compiled policy definition, independent of any assignment's parameter values.
#[derive(Debug, Clone)]
pub struct PolicyDefinition {
    /// The definition's `name` (a GUID for built-ins), or the caller's fallback (a file stem).
    pub name: String,
    /// `displayName`, if any.
    pub display_name: Option<String>,
    /// `mode` (`All` when absent).
    pub mode: Mode,
    /// Declared parameters.
    pub parameters: Vec<ParameterDef>,
    /// The compiled `if`.
    pub condition: Cond,
    /// `then.effect`: a literal or an expression over parameters.
    pub effect: Operand,
    /// `then.details`, kept as written.
    pub details: Option<Value>,
    /// JSON Pointer of `policyRule` in the input document (`/properties/policyRule`, `/policyRule` or ``).
    pub rule_pointer: String,
    /// Aliases not in the bundled table, read at their fallback path.
    pub unknown_aliases: Vec<String>,
    /// `field('…')` references found in expressions, resolved once.
    pub expression_fields: HashMap<String, FieldRef>,
    /// The existence check of `auditIfNotExists`/`deployIfNotExists` (`then.details`).
    pub existence: Option<ExistenceDef>,
}

/// `then.details` of an existence effect, compiled: which related resources to look for and
/// the condition one of them must meet.
#[derive(Debug, Clone)]
pub struct ExistenceDef {
    /// `details.type`: the related resource type.
    pub related_type: Operand,
    /// `details.name`: the related resource's name, when given.
    pub name: Option<Operand>,
    /// `details.resourceGroupName`: the group to look in, when given.
    pub resource_group_name: Option<Operand>,
    /// `details.existenceScope`: `ResourceGroup` (default) or `Subscription`.
    pub existence_scope: Option<Operand>,
    /// `details.existenceCondition`, compiled.
    pub condition: Option<Cond>,
}

/// A definition with parameter values bound: what evaluates resources.
#[derive(Debug, Clone)]
pub struct BoundPolicy {
    /// The definition.
    pub definition: PolicyDefinition,
    /// Parameter values by lower-cased name (defaults filled in).
    pub parameters: HashMap<String, Value>,
    /// The `if`, with parameters folded in.
    pub condition: Cond,
    /// The resolved effect, lower-case.
    pub effect: String,
    /// The existence check with parameters folded in (existence effects only).
    pub existence: Option<ExistenceDef>,
}

/// The outcome for one (policy, resource) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The `if` is true for the resource.
    pub matched: bool,
    /// The resolved effect when matched.
    pub effect: Option<String>,
    /// The conditions that decided the outcome.
    pub reasons: Vec<Reason>,
    /// False when the policy does not apply to the resource at all (mode).
    pub applicable: bool,
    /// Why the policy does not apply, when it does not.
    pub note: Option<String>,
}

pub(crate) fn get_ci<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> Option<(&'a String, &'a Value)> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

impl PolicyDefinition {
    /// Compile a definition from JSON text. `fallback_name` names it when it has no `name`.
    pub fn from_json_str(text: &str, fallback_name: &str) -> Result<Self, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError::new("", json_error(&e)))?;
        Self::from_value(&value, fallback_name)
    }

    /// Compile a definition in any of its three shapes.
    pub fn from_value(doc: &Value, fallback_name: &str) -> Result<Self, PolicyError> {
        Self::from_value_with(doc, fallback_name, AliasTable::bundled())
    }

    /// Compile with a given alias table.
    pub fn from_value_with(
        doc: &Value,
        fallback_name: &str,
        aliases: &AliasTable,
    ) -> Result<Self, PolicyError> {
        let Value::Object(root) = doc else {
            return Err(PolicyError::new(
                "",
                "a policy definition must be a JSON object",
            ));
        };
        let mut name = get_ci(root, "name")
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string);
        // Shape 1: {"properties": {...}}; shape 2: {"policyRule": ...}; shape 3: {"if","then"}.
        let (props, props_ptr): (&Map<String, Value>, String) = match get_ci(root, "properties") {
            Some((k, Value::Object(p))) if get_ci(root, "policyRule").is_none() => {
                (p, format!("/{}", pointer_token(k)))
            }
            Some((k, _))
                if get_ci(root, "policyRule").is_none() && get_ci(root, "if").is_none() =>
            {
                return Err(PolicyError::new(
                    format!("/{}", pointer_token(k)),
                    "`properties` must be an object",
                ))
            }
            _ => (root, String::new()),
        };
        let (rule, rule_ptr): (&Map<String, Value>, String) =
            match get_ci(props, "policyRule") {
                Some((k, Value::Object(r))) => (r, format!("{props_ptr}/{}", pointer_token(k))),
                Some((k, _)) => {
                    return Err(PolicyError::new(
                        format!("{props_ptr}/{}", pointer_token(k)),
                        "`policyRule` must be an object",
                    ))
                }
                None if get_ci(props, "if").is_some() => (props, props_ptr.clone()),
                None => return Err(PolicyError::new(
                    props_ptr,
                    "no policy rule: expected `properties.policyRule`, `policyRule` or `if`/`then`",
                )),
            };
        if name.is_none() {
            name = get_ci(props, "name")
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string);
        }
        let display_name = get_ci(props, "displayName")
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string);
        let mode = match get_ci(props, "mode") {
            None | Some((_, Value::Null)) => Mode::All,
            Some((k, Value::String(m))) => match m.to_ascii_lowercase().as_str() {
                "all" => Mode::All,
                "indexed" => Mode::Indexed,
                other if other.starts_with("microsoft.") && other.ends_with(".data") => {
                    Mode::ResourceProvider(m.clone())
                }
                _ => {
                    return Err(PolicyError::new(
                        format!("{props_ptr}/{}", pointer_token(k)),
                        format!("unknown mode `{m}`"),
                    ))
                }
            },
            Some((k, _)) => {
                return Err(PolicyError::new(
                    format!("{props_ptr}/{}", pointer_token(k)),
                    "`mode` must be a string",
                ))
            }
        };
        let parameters = match get_ci(props, "parameters") {
            None | Some((_, Value::Null)) => Vec::new(),
            Some((k, v)) => parse_parameters(v, &format!("{props_ptr}/{}", pointer_token(k)))?,
        };
        for (key, _) in rule {
            if !["if", "then"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
                return Err(PolicyError::new(
                    format!("{rule_ptr}/{}", pointer_token(key)),
                    format!("unknown policy rule property `{key}`"),
                ));
            }
        }
        let (if_key, if_node) = get_ci(rule, "if")
            .ok_or_else(|| PolicyError::new(rule_ptr.clone(), "the policy rule has no `if`"))?;
        let condition = compile_condition(
            if_node,
            &format!("{rule_ptr}/{}", pointer_token(if_key)),
            aliases,
        )?;
        let (then_key, then_node) = get_ci(rule, "then")
            .ok_or_else(|| PolicyError::new(rule_ptr.clone(), "the policy rule has no `then`"))?;
        let then_ptr = format!("{rule_ptr}/{}", pointer_token(then_key));
        let Value::Object(then) = then_node else {
            return Err(PolicyError::new(then_ptr, "`then` must be an object"));
        };
        let (effect_key, effect_node) = get_ci(then, "effect")
            .ok_or_else(|| PolicyError::new(then_ptr.clone(), "`then` has no `effect`"))?;
        let effect_ptr = format!("{then_ptr}/{}", pointer_token(effect_key));
        if !effect_node.is_string() {
            return Err(PolicyError::new(effect_ptr, "`effect` must be a string"));
        }
        let effect = compile_operand(effect_node, &effect_ptr)?;
        if let Operand::Const(Value::String(e)) = &effect {
            check_effect(e, &effect_ptr)?;
        }
        let details = get_ci(then, "details").map(|(_, v)| v.clone());
        let mut def = Self {
            name: name.unwrap_or_else(|| fallback_name.to_string()),
            display_name,
            mode,
            parameters,
            condition,
            effect,
            details,
            rule_pointer: rule_ptr,
            unknown_aliases: Vec::new(),
            expression_fields: HashMap::new(),
            existence: None,
        };
        if let Some(Value::Object(d)) = &def.details {
            def.existence = compile_existence(d, &format!("{then_ptr}/details"), aliases)?;
        }
        def.check_parameter_references(&then_ptr)?;
        def.index_fields(aliases);
        if let (Some(d), Operand::Const(Value::String(e))) = (&def.details, &def.effect) {
            check_details(e, d, &format!("{then_ptr}/details"))?;
        }
        if let Some(dflt) = def.default_effect() {
            check_effect(&dflt, &effect_ptr)?;
        }
        Ok(def)
    }

    /// The effect with default parameter values, when it can be known without an assignment.
    pub fn default_effect(&self) -> Option<String> {
        match &self.effect {
            Operand::Const(Value::String(s)) => Some(s.to_ascii_lowercase()),
            Operand::Expr(e) => {
                let params: HashMap<String, Value> = self
                    .parameters
                    .iter()
                    .filter_map(|p| Some((p.name.to_ascii_lowercase(), p.default.clone()?)))
                    .collect();
                match expr::fold(e.clone(), &|n| params.get(&n.to_ascii_lowercase()).cloned()) {
                    Expr::Literal(Value::String(s)) => Some(s.to_ascii_lowercase()),
                    _ => None,
                }
            }
            Operand::Const(_) => None,
        }
    }

    fn check_parameter_references(&self, then_ptr: &str) -> Result<(), PolicyError> {
        // Every `parameters('x')` in the rule must name a declared parameter.
        let declared: Vec<String> = self
            .parameters
            .iter()
            .map(|p| p.name.to_ascii_lowercase())
            .collect();
        let mut missing: Option<(String, String)> = None;
        walk_exprs(&self.condition, &mut |e, at| {
            if missing.is_none() {
                missing = find_param_refs(e, &declared).map(|n| (n, at.to_string()));
            }
        });
        if let (None, Operand::Expr(e)) = (&missing, &self.effect) {
            missing = find_param_refs(e, &declared).map(|n| (n, format!("{then_ptr}/effect")));
        }
        if let Some((name, at)) = missing {
            return Err(PolicyError::new(
                at,
                format!("the rule uses parameter `{name}`, which the definition does not declare"),
            ));
        }
        Ok(())
    }

    fn index_fields(&mut self, aliases: &AliasTable) {
        let mut texts = Vec::new();
        walk_exprs(&self.condition, &mut |e, _| {
            collect_field_calls(e, &mut texts)
        });
        if let Some(x) = &self.existence {
            if let Some(c) = &x.condition {
                walk_exprs(c, &mut |e, _| collect_field_calls(e, &mut texts));
            }
            let operands = [
                Some(&x.related_type),
                x.name.as_ref(),
                x.resource_group_name.as_ref(),
                x.existence_scope.as_ref(),
            ];
            for o in operands.into_iter().flatten() {
                if let Operand::Expr(e) = o {
                    collect_field_calls(e, &mut texts);
                }
            }
        }
        for t in texts {
            if let Ok(f) = FieldRef::resolve(&t, aliases) {
                self.expression_fields.insert(t, f);
            }
        }
        let mut unknown = Vec::new();
        walk_fields(&self.condition, &mut |f| {
            if f.kind == field::FieldKind::UnknownAlias && !unknown.contains(&f.text) {
                unknown.push(f.text.clone());
            }
        });
        for f in self.expression_fields.values() {
            if f.kind == field::FieldKind::UnknownAlias && !unknown.contains(&f.text) {
                unknown.push(f.text.clone());
            }
        }
        self.unknown_aliases = unknown;
    }

    /// Bind assignment parameter values (names case-insensitive). Missing values take the
    /// declared default; a value of the wrong type, outside `allowedValues`, undeclared, or a
    /// parameter with neither value nor default, is a [`PolicyError`].
    pub fn bind(&self, values: &Map<String, Value>) -> Result<BoundPolicy, PolicyError> {
        let params_ptr = "/parameters";
        let mut bound = HashMap::new();
        for (name, value) in values {
            let Some(def) = self
                .parameters
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
            else {
                return Err(PolicyError::new(
                    format!("{params_ptr}/{}", pointer_token(name)),
                    format!("parameter `{name}` is not declared by the definition"),
                ));
            };
            // Accept the ARM assignment shape `{"value": …}` as well as the bare value.
            let value = match value {
                Value::Object(m) if m.len() == 1 && def.kind != ParamType::Object => {
                    m.get("value").unwrap_or(value)
                }
                _ => value,
            };
            check_value(def, value, &format!("{params_ptr}/{}", pointer_token(name)))?;
            bound.insert(def.name.to_ascii_lowercase(), value.clone());
        }
        for def in &self.parameters {
            let key = def.name.to_ascii_lowercase();
            if bound.contains_key(&key) {
                continue;
            }
            match &def.default {
                Some(d) => {
                    bound.insert(key, d.clone());
                }
                None => {
                    return Err(PolicyError::new(
                        format!("{params_ptr}/{}", pointer_token(&def.name)),
                        format!("parameter `{}` has no value and no default", def.name),
                    ))
                }
            }
        }
        let lookup = |n: &str| bound.get(&n.to_ascii_lowercase()).cloned();
        let condition = fold_cond(&self.condition, &lookup, AliasTable::bundled())?;
        let effect = match &self.effect {
            Operand::Const(Value::String(s)) => s.to_ascii_lowercase(),
            Operand::Expr(e) => match expr::fold(e.clone(), &lookup) {
                Expr::Literal(Value::String(s)) => s.to_ascii_lowercase(),
                Expr::Literal(other) => {
                    return Err(PolicyError::new(
                        format!("{}/then/effect", self.rule_pointer),
                        format!("the effect resolved to `{}`, not a string", brief(&other)),
                    ))
                }
                _ => {
                    return Err(PolicyError::new(
                        format!("{}/then/effect", self.rule_pointer),
                        "the effect expression cannot be resolved from parameters",
                    ))
                }
            },
            Operand::Const(other) => {
                return Err(PolicyError::new(
                    format!("{}/then/effect", self.rule_pointer),
                    format!("the effect must be a string, got `{}`", brief(other)),
                ))
            }
        };
        check_effect(&effect, &format!("{}/then/effect", self.rule_pointer))?;
        let existence = match &self.existence {
            Some(x) if effect == "auditifnotexists" || effect == "deployifnotexists" => {
                Some(ExistenceDef {
                    related_type: fold_operand(&x.related_type, &lookup),
                    name: x.name.as_ref().map(|o| fold_operand(o, &lookup)),
                    resource_group_name: x
                        .resource_group_name
                        .as_ref()
                        .map(|o| fold_operand(o, &lookup)),
                    existence_scope: x.existence_scope.as_ref().map(|o| fold_operand(o, &lookup)),
                    condition: match &x.condition {
                        Some(c) => Some(fold_cond(c, &lookup, AliasTable::bundled())?),
                        None => None,
                    },
                })
            }
            _ => None,
        };
        Ok(BoundPolicy {
            definition: self.clone(),
            parameters: bound,
            condition,
            effect,
            existence,
        })
    }
}

impl BoundPolicy {
    /// Whether the policy applies to a resource of this type at all (its mode).
    pub fn applies_to(&self, resource: &Value) -> Result<(), String> {
        let t = field::resource_type(resource).unwrap_or("");
        match self.definition.mode.excludes(t) {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Evaluate the policy on one resource; `reasons` records the deciding conditions.
    pub fn decide(
        &self,
        resource: &Value,
        options: &EvalOptions,
        reasons: bool,
    ) -> Result<Decision, EvaluationError> {
        if let Err(note) = self.applies_to(resource) {
            return Ok(Decision {
                matched: false,
                effect: None,
                reasons: Vec::new(),
                applicable: false,
                note: Some(note),
            });
        }
        if self.effect == "disabled" {
            // effect-basics: `disabled` is checked first; the rule is then not evaluated.
            return Ok(Decision {
                matched: false,
                effect: None,
                reasons: Vec::new(),
                applicable: true,
                note: Some("the effect is `disabled`: the rule is not evaluated".into()),
            });
        }
        let env = Env {
            parameters: &self.parameters,
            aliases: AliasTable::bundled(),
            options,
            fields: &self.definition.expression_fields,
            definition_name: &self.definition.name,
        };
        let evaluator = Evaluator::new(&env, resource);
        let mut trace = reasons.then(Vec::new);
        let matched = evaluator.eval(&self.condition, trace.as_mut())?;
        Ok(Decision {
            matched,
            effect: matched.then(|| self.effect.clone()),
            reasons: trace.unwrap_or_default(),
            applicable: true,
            note: None,
        })
    }
}

fn check_effect(effect: &str, pointer: &str) -> Result<(), PolicyError> {
    if KNOWN_EFFECTS.iter().any(|e| e.eq_ignore_ascii_case(effect)) {
        Ok(())
    } else {
        Err(PolicyError::new(
            pointer,
            format!("unknown effect `{effect}`"),
        ))
    }
}

fn check_details(effect: &str, details: &Value, pointer: &str) -> Result<(), PolicyError> {
    let lower = effect.to_ascii_lowercase();
    if lower == "auditifnotexists" || lower == "deployifnotexists" {
        let Value::Object(d) = details else {
            return Err(PolicyError::new(
                pointer,
                format!("`details` of `{effect}` must be an object"),
            ));
        };
        if get_ci(d, "type").is_none() {
            return Err(PolicyError::new(
                pointer,
                format!("`details` of `{effect}` needs `type`"),
            ));
        }
    }
    Ok(())
}

/// A one-line message for a JSON parse error; serde's depth limit gets a plain explanation.
pub fn json_error(e: &serde_json::Error) -> String {
    if e.to_string().contains("recursion limit exceeded") {
        format!(
            "the document nests deeper than 128 levels (line {}, column {})",
            e.line(),
            e.column()
        )
    } else {
        format!("malformed JSON: {e}")
    }
}

/// Compile the existence part of `then.details` (present when it names a related `type`).
fn compile_existence(
    details: &Map<String, Value>,
    pointer: &str,
    aliases: &AliasTable,
) -> Result<Option<ExistenceDef>, PolicyError> {
    let Some((type_key, type_node)) = get_ci(details, "type") else {
        return Ok(None);
    };
    let at = |k: &str| format!("{pointer}/{}", pointer_token(k));
    let operand = |key: &str| -> Result<Option<Operand>, PolicyError> {
        match get_ci(details, key) {
            Some((k, v @ Value::String(_))) => compile_operand(v, &at(k)).map(Some),
            Some((k, _)) => Err(PolicyError::new(
                at(k),
                format!("`details.{key}` must be a string"),
            )),
            None => Ok(None),
        }
    };
    if !type_node.is_string() {
        return Err(PolicyError::new(
            at(type_key),
            "`details.type` must be a string",
        ));
    }
    let condition = match get_ci(details, "existenceCondition") {
        Some((k, v)) => Some(compile_condition(v, &at(k), aliases)?),
        None => None,
    };
    Ok(Some(ExistenceDef {
        related_type: compile_operand(type_node, &at(type_key))?,
        name: operand("name")?,
        resource_group_name: operand("resourceGroupName")?,
        existence_scope: operand("existenceScope")?,
        condition,
    }))
}
