//! Evaluating a compiled condition on one resource: field selection (with `[*]` all-members
//! semantics and `count` frames), `value` and `count` conditions, template expressions through
//! a [`Scope`], and, when asked, the reasons that decided the outcome.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::alias::AliasTable;
use crate::error::EvaluationError;
use crate::expr::{self, EvalError, Scope};
use crate::field::{self, FieldRef};
use crate::path::{resolve_collection, resolve_single, PropertyPath, Segment};
use crate::rule::compile::is_equality;
use crate::rule::operator::{apply, normalize_location_value};
use crate::rule::{Cond, CountSource, FieldSpec, Operand};

/// The `requestContext().apiVersion` used when the caller gives none. Azure's compliance scans
/// always use the latest api-version; a date later than any published one behaves the same
/// in every comparison the built-ins make.
pub const DEFAULT_API_VERSION: &str = "2099-12-31";

/// What the evaluation can see beyond the resource: the clock and the deployment context.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The clock behind `utcNow()`.
    pub now: DateTime<Utc>,
    /// `resourceGroup()`; derived from the resource id when `None`.
    pub resource_group: Option<Value>,
    /// `subscription()`; derived from the resource id when `None`.
    pub subscription: Option<Value>,
    /// `requestContext()`; `{"apiVersion": DEFAULT_API_VERSION}` when `None`.
    pub request_context: Option<Value>,
    /// `policy()`; derived from the definition name when `None`.
    pub policy: Option<Value>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            now: Utc::now(),
            resource_group: None,
            subscription: None,
            request_context: None,
            policy: None,
        }
    }
}

/// One condition that decided an outcome, as Azure shows "reasons for non-compliance".
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// JSON Pointer of the condition in the rule.
    pub pointer: String,
    /// The field (or `value`/`count`) as written.
    pub subject: String,
    /// The property path read, when a field.
    pub path: Option<String>,
    /// The actual value (`None`: the property is absent).
    pub actual: Option<Value>,
    /// The operator name.
    pub operator: &'static str,
    /// The expected value.
    pub expected: Value,
    /// The condition's own result.
    pub result: bool,
    /// True when an odd number of `not` operators sit above the condition.
    pub negated: bool,
}

/// Everything fixed for one bound policy while it evaluates resources.
pub struct Env<'p> {
    /// Parameter values, keys lower-cased.
    pub parameters: &'p HashMap<String, Value>,
    /// The alias table, for fields computed at run time.
    pub aliases: &'p AliasTable,
    /// Context and clock.
    pub options: &'p EvalOptions,
    /// Pre-resolved `field('…')` references, by their text.
    pub fields: &'p HashMap<String, FieldRef>,
    /// The definition's name, for `policy()`.
    pub definition_name: &'p str,
}

enum Frame<'a> {
    Field {
        text: &'a str,
        prefix: &'a PropertyPath,
        member: Option<Cow<'a, Value>>,
    },
    Value {
        name: String,
        member: Value,
    },
}

enum Selected<'a> {
    One(Option<Cow<'a, Value>>),
    Many(Vec<Option<Cow<'a, Value>>>),
}

/// Evaluates conditions on one resource.
pub struct Evaluator<'a, 'p> {
    env: &'a Env<'p>,
    resource: &'a Value,
    resource_type: Option<&'a str>,
    /// What `[field()]`, `resourceGroup()` and `subscription()` in expressions read: the
    /// resource itself, or, inside an `existenceCondition`, the evaluated (primary) resource.
    expr_resource: &'a Value,
}

type Trace<'t, 'a> = Option<&'t mut Vec<Step<'a>>>;

/// One evaluated leaf, recorded while tracing. It borrows from the rule and the resource; a
/// [`Reason`] (owned) is made only for the steps that are shown.
pub struct Step<'a> {
    leaf: Leaf<'a>,
    actual: Option<Cow<'a, Value>>,
    expected: Cow<'a, Value>,
    result: bool,
    negated: bool,
}

enum Leaf<'a> {
    /// A `field` condition and the field it read (owned when computed at run time).
    Field(&'a crate::rule::FieldCond, Cow<'a, FieldRef>),
    Value(&'a crate::rule::ValueCond),
    Count(&'a crate::rule::CountCond),
}

impl<'a> Step<'a> {
    /// True when the condition reads the resource `type`.
    pub fn is_type_check(&self) -> bool {
        matches!(&self.leaf, Leaf::Field(_, f) if f.text.eq_ignore_ascii_case("type"))
    }

    /// The owned reason, with property paths shown for `resource_type`.
    pub fn to_reason(&self, resource_type: Option<&str>) -> Reason {
        let (pointer, subject, path, operator) = self.parts(resource_type);
        Reason {
            pointer: pointer.to_string(),
            subject: subject.into_owned(),
            path: path.map(str::to_string),
            actual: self.actual.as_deref().cloned(),
            operator,
            expected: self.expected.as_ref().clone(),
            result: self.result,
            negated: self.negated,
        }
    }

    /// Append the step as [`Reason`]'s `Display` writes it, without making the owned reason.
    pub fn write_to(&self, out: &mut String, resource_type: Option<&str>) {
        let (_, subject, path, operator) = self.parts(resource_type);
        ReasonText {
            subject: &subject,
            path,
            actual: self.actual.as_deref(),
            operator,
            expected: &self.expected,
            result: self.result,
            negated: self.negated,
        }
        .render(out);
    }

    /// `(pointer, subject, path shown, operator)` of the step's condition.
    fn parts(
        &self,
        resource_type: Option<&str>,
    ) -> (&str, Cow<'_, str>, Option<&str>, &'static str) {
        match &self.leaf {
            Leaf::Field(fc, field) => (
                &fc.pointer,
                Cow::Borrowed(field.text.as_str()),
                Some(if field.full_name {
                    "fullName"
                } else {
                    field.shown_path(resource_type)
                }),
                fc.op.kind.name(),
            ),
            Leaf::Value(vc) => (
                &vc.pointer,
                Cow::Owned(describe_operand(&vc.value)),
                None,
                vc.op.kind.name(),
            ),
            Leaf::Count(cc) => (
                &cc.pointer,
                Cow::Owned(match &cc.source {
                    CountSource::Field(FieldSpec::Resolved(f)) => format!("count of `{}`", f.text),
                    _ => "count".to_string(),
                }),
                None,
                cc.op.kind.name(),
            ),
        }
    }
}

impl<'a, 'p> Evaluator<'a, 'p> {
    /// An evaluator for `resource`.
    pub fn new(env: &'a Env<'p>, resource: &'a Value) -> Self {
        Self {
            env,
            resource,
            resource_type: field::resource_type(resource),
            expr_resource: resource,
        }
    }

    /// An evaluator for `resource` whose `type` the caller already read.
    pub fn with_type(
        env: &'a Env<'p>,
        resource: &'a Value,
        resource_type: Option<&'a str>,
    ) -> Self {
        Self {
            env,
            resource,
            resource_type,
            expr_resource: resource,
        }
    }

    /// An evaluator for a related resource of an existence check: `field` conditions read
    /// `related`, while `[field()]` expressions read `primary` (the evaluated resource).
    pub fn for_related(env: &'a Env<'p>, related: &'a Value, primary: &'a Value) -> Self {
        Self {
            env,
            resource: related,
            resource_type: field::resource_type(related),
            expr_resource: primary,
        }
    }

    /// Evaluate an operand (a literal or an expression) for this resource.
    pub fn eval_operand(&self, operand: &Operand, pointer: &str) -> Result<Value, EvaluationError> {
        self.operand(operand, &[], pointer).map(Cow::into_owned)
    }

    fn primary(&self) -> Option<Evaluator<'a, 'p>> {
        (!std::ptr::eq(self.resource, self.expr_resource))
            .then(|| Evaluator::new(self.env, self.expr_resource))
    }

    /// Evaluate `cond`; with `reasons`, also record the conditions that decided it.
    pub fn eval(
        &self,
        cond: &'a Cond,
        reasons: Option<&mut Vec<Reason>>,
    ) -> Result<bool, EvaluationError> {
        let mut frames = Vec::new();
        let Some(reasons) = reasons else {
            return self.eval_cond(cond, &mut frames, None);
        };
        let mut steps = Vec::new();
        let matched = self.eval_cond(cond, &mut frames, Some(&mut steps))?;
        reasons.extend(steps.iter().map(|s| s.to_reason(self.resource_type)));
        Ok(matched)
    }

    /// Evaluate `cond` and record the conditions that decided it, borrowed (see [`Step`]).
    pub fn trace(&self, cond: &'a Cond) -> Result<(bool, Vec<Step<'a>>), EvaluationError> {
        let mut frames = Vec::new();
        let mut steps = Vec::new();
        let matched = self.eval_cond(cond, &mut frames, Some(&mut steps))?;
        Ok((matched, steps))
    }

    /// The type this evaluator shows property paths for.
    pub fn resource_type(&self) -> Option<&'a str> {
        self.resource_type
    }

    fn eval_cond(
        &self,
        cond: &'a Cond,
        frames: &mut Vec<Frame<'a>>,
        mut trace: Trace<'_, 'a>,
    ) -> Result<bool, EvaluationError> {
        match cond {
            Cond::All(children) | Cond::Any(children) => {
                let want = matches!(cond, Cond::Any(_));
                // Every child's steps go straight into `trace`; when one child decides the
                // outcome, the steps of the children before it are cut out again.
                let start = trace.as_ref().map_or(0, |t| t.len());
                for c in children {
                    let mark = trace.as_ref().map_or(0, |t| t.len());
                    let r = self.eval_cond(c, frames, trace.as_deref_mut())?;
                    if r == want {
                        // INVARIANT: children only cut steps they added, so
                        // `start <= mark <= len`; the check keeps a slip from panicking.
                        if let Some(t) = trace.filter(|t| start <= mark && mark <= t.len()) {
                            t.drain(start..mark);
                        }
                        return Ok(want);
                    }
                }
                Ok(!want)
            }
            Cond::Not(inner) => {
                let mark = trace.as_ref().map_or(0, |t| t.len());
                let r = self.eval_cond(inner, frames, trace.as_deref_mut())?;
                if let Some(steps) = trace.and_then(|t| t.get_mut(mark..)) {
                    for x in steps {
                        x.negated = !x.negated;
                    }
                }
                Ok(!r)
            }
            Cond::Field(fc) => {
                let field: Cow<'a, FieldRef> = match &fc.field {
                    FieldSpec::Resolved(f) => Cow::Borrowed(f),
                    FieldSpec::Dynamic(e) => {
                        Cow::Owned(self.dynamic_field(e, frames, &fc.pointer)?)
                    }
                };
                let mut expected = self.operand(&fc.op.rhs, frames, &fc.pointer)?;
                let runtime_rhs = matches!(fc.op.rhs, Operand::Expr(_))
                    || matches!(fc.field, FieldSpec::Dynamic(_));
                if field.location && runtime_rhs && is_equality(fc.op.kind) {
                    normalize_location_value(expected.to_mut());
                }
                let pattern = fc.op.pattern.as_ref();
                let selected = self.select(&field, frames);
                let result = match &selected {
                    Selected::One(v) => apply(fc.op.kind, v.as_deref(), &expected, pattern),
                    Selected::Many(vs) => {
                        let mut all = Ok(true);
                        for v in vs {
                            match apply(fc.op.kind, v.as_deref(), &expected, pattern) {
                                Ok(true) => {}
                                other => {
                                    all = other;
                                    break;
                                }
                            }
                        }
                        all
                    }
                }
                .map_err(|m| {
                    EvaluationError::new(&fc.pointer, format!("field `{}`: {m}", field.text))
                })?;
                if let Some(t) = trace {
                    let actual = match selected {
                        Selected::One(v) => v,
                        Selected::Many(vs) => Some(Cow::Owned(Value::Array(
                            vs.into_iter()
                                .map(|v| v.map_or(Value::Null, Cow::into_owned))
                                .collect(),
                        ))),
                    };
                    t.push(Step {
                        leaf: Leaf::Field(fc, field),
                        actual,
                        expected,
                        result,
                        negated: false,
                    });
                }
                Ok(result)
            }
            Cond::Value(vc) => {
                let value = self.operand(&vc.value, frames, &vc.pointer)?;
                let expected = self.operand(&vc.op.rhs, frames, &vc.pointer)?;
                let result = apply(vc.op.kind, Some(&value), &expected, vc.op.pattern.as_ref())
                    .map_err(|m| {
                        EvaluationError::new(&vc.pointer, format!("value condition: {m}"))
                    })?;
                if let Some(t) = trace {
                    t.push(Step {
                        leaf: Leaf::Value(vc),
                        actual: Some(value),
                        expected,
                        result,
                        negated: false,
                    });
                }
                Ok(result)
            }
            Cond::Count(cc) => {
                let n = self.count(cc, frames)?;
                let expected = self.operand(&cc.op.rhs, frames, &cc.pointer)?;
                let actual = json!(n);
                let result = apply(cc.op.kind, Some(&actual), &expected, cc.op.pattern.as_ref())
                    .map_err(|m| EvaluationError::new(&cc.pointer, format!("count: {m}")))?;
                if let Some(t) = trace {
                    t.push(Step {
                        leaf: Leaf::Count(cc),
                        actual: Some(Cow::Owned(actual)),
                        expected,
                        result,
                        negated: false,
                    });
                }
                Ok(result)
            }
        }
    }

    fn count(
        &self,
        cc: &'a crate::rule::CountCond,
        frames: &mut Vec<Frame<'a>>,
    ) -> Result<usize, EvaluationError> {
        match &cc.source {
            CountSource::Field(spec) => {
                let FieldSpec::Resolved(field) = spec else {
                    return Err(EvaluationError::new(
                        &cc.pointer,
                        "`count.field` must be a literal array alias",
                    ));
                };
                let members = match self.select(field, frames) {
                    Selected::Many(vs) => vs,
                    Selected::One(v) => vec![v],
                };
                let Some(where_) = &cc.where_ else {
                    return Ok(members.len());
                };
                let prefix = field.path_for(self.resource_type);
                let mut n = 0;
                for member in members {
                    frames.push(Frame::Field {
                        text: &field.text,
                        prefix,
                        member,
                    });
                    let r = self.eval_cond(where_, frames, None);
                    frames.pop();
                    if r? {
                        n += 1;
                    }
                }
                Ok(n)
            }
            CountSource::Value(operand) => {
                let value = self.operand(operand, frames, &cc.pointer)?.into_owned();
                let items = match value {
                    Value::Array(items) => items,
                    other => {
                        return Err(EvaluationError::new(
                            &cc.pointer,
                            format!(
                                "`count.value` must be an array, got `{}`",
                                crate::compare::brief(&other)
                            ),
                        ))
                    }
                };
                let Some(where_) = &cc.where_ else {
                    return Ok(items.len());
                };
                let name = cc.name.clone().unwrap_or_else(|| "default".to_string());
                let mut n = 0;
                for member in items {
                    frames.push(Frame::Value {
                        name: name.clone(),
                        member,
                    });
                    let r = self.eval_cond(where_, frames, None);
                    frames.pop();
                    if r? {
                        n += 1;
                    }
                }
                Ok(n)
            }
        }
    }

    fn operand<'o>(
        &self,
        operand: &'o Operand,
        frames: &[Frame<'a>],
        pointer: &str,
    ) -> Result<Cow<'o, Value>, EvaluationError> {
        match operand {
            Operand::Const(v) => Ok(Cow::Borrowed(v)),
            Operand::Expr(e) => {
                let scope = ExprScope { ev: self, frames };
                expr::evaluate(e, &scope)
                    .map(Cow::Owned)
                    .map_err(|x| EvaluationError::new(pointer, x.0))
            }
        }
    }

    fn dynamic_field(
        &self,
        e: &expr::Expr,
        frames: &[Frame<'a>],
        pointer: &str,
    ) -> Result<FieldRef, EvaluationError> {
        let scope = ExprScope { ev: self, frames };
        let v = expr::evaluate(e, &scope).map_err(|x| EvaluationError::new(pointer, x.0))?;
        let Value::String(name) = v else {
            return Err(EvaluationError::new(
                pointer,
                format!(
                    "the `field` expression yielded `{}`, not a field name",
                    crate::compare::brief(&v)
                ),
            ));
        };
        FieldRef::resolve(&name, self.env.aliases).map_err(|m| EvaluationError::new(pointer, m))
    }

    /// Select the values a field refers to, honouring the frames of enclosing counts.
    fn select(&self, field: &FieldRef, frames: &[Frame<'a>]) -> Selected<'a> {
        if field.full_name {
            return Selected::One(field::read_single(field, self.resource, self.resource_type));
        }
        let path = field.path_for(self.resource_type);
        for frame in frames.iter().rev() {
            if let Frame::Field { prefix, member, .. } = frame {
                if let Some(rest) = strip_prefix(&path.segments, &prefix.segments) {
                    let Some(base) = member.as_deref() else {
                        return if rest.iter().any(|s| matches!(s, Segment::Wildcard)) {
                            Selected::Many(Vec::new())
                        } else {
                            Selected::One(None)
                        };
                    };
                    return self.select_from(base, rest, field.location);
                }
            }
        }
        if path.has_wildcard() {
            let mut out = Vec::new();
            resolve_collection(self.resource, &path.segments, &mut out);
            Selected::Many(out.into_iter().map(|v| v.map(Cow::Borrowed)).collect())
        } else {
            Selected::One(field::read_single(field, self.resource, self.resource_type))
        }
    }

    fn select_from(&self, base: &Value, rest: &[Segment], location: bool) -> Selected<'a> {
        // Members of a frame may be owned (computed) values; clone out what is selected.
        if rest.iter().any(|s| matches!(s, Segment::Wildcard)) {
            let mut out = Vec::new();
            resolve_collection(base, rest, &mut out);
            Selected::Many(
                out.into_iter()
                    .map(|v| v.map(|x| Cow::Owned(x.clone())))
                    .collect(),
            )
        } else {
            let mut v = resolve_single(base, rest).cloned();
            if location {
                if let Some(x) = v.as_mut() {
                    normalize_location_value(x);
                }
            }
            Selected::One(v.map(Cow::Owned))
        }
    }

    fn resource_id(&self) -> &str {
        crate::field::resource_id(self.resource).unwrap_or("")
    }

    fn resource_group(&self) -> Value {
        if let Some(v) = &self.env.options.resource_group {
            return v.clone();
        }
        self.context_object(RESOURCE_GROUP_KEYS, Self::resource_group_property)
    }

    fn subscription(&self) -> Value {
        if let Some(v) = &self.env.options.subscription {
            return v.clone();
        }
        self.context_object(SUBSCRIPTION_KEYS, Self::subscription_property)
    }

    fn context_object(&self, keys: &[&str], property: fn(&Self, &str) -> Option<Value>) -> Value {
        Value::Object(
            keys.iter()
                .filter_map(|k| Some((k.to_string(), property(self, k)?)))
                .collect(),
        )
    }

    /// Property `key` (any case) of the `resourceGroup()` object made from the resource's id:
    /// the one place its members are defined, for the whole object and for a single read.
    fn resource_group_property(&self, key: &str) -> Option<Value> {
        let id = self.resource_id();
        let group = || id_segment(id, "resourceGroups").unwrap_or("");
        let is = |k: &str| key.eq_ignore_ascii_case(k);
        Some(if is("id") {
            let sub = id_segment(id, "subscriptions").unwrap_or("");
            Value::String(format!("/subscriptions/{sub}/resourceGroups/{}", group()))
        } else if is("name") {
            Value::String(group().to_string())
        } else if is("type") {
            Value::String("Microsoft.Resources/resourceGroups".to_string())
        } else if is("location") {
            match self.resource {
                Value::Object(map) => crate::path::get_member(map, "location").cloned(),
                _ => None,
            }
            .unwrap_or(Value::Null)
        } else if is("managedBy") {
            Value::Null
        } else if is("tags") {
            json!({})
        } else if is("properties") {
            json!({"provisioningState": "Succeeded"})
        } else {
            return None;
        })
    }

    /// Property `key` (any case) of the `subscription()` object made from the resource's id.
    fn subscription_property(&self, key: &str) -> Option<Value> {
        let sub = id_segment(self.resource_id(), "subscriptions").unwrap_or("");
        let is = |k: &str| key.eq_ignore_ascii_case(k);
        Some(if is("id") {
            Value::String(format!("/subscriptions/{sub}"))
        } else if is("subscriptionId") || is("displayName") {
            Value::String(sub.to_string())
        } else if is("tenantId") {
            Value::String(String::new())
        } else {
            return None;
        })
    }

    /// One property of `resourceGroup()`/`subscription()` without building the object; `None`
    /// when the caller set the object (`options`) or it has no such property.
    fn context_property(&self, function: &str, key: &str) -> Option<Value> {
        match function {
            "resourcegroup" if self.env.options.resource_group.is_none() => {
                self.resource_group_property(key)
            }
            "subscription" if self.env.options.subscription.is_none() => {
                self.subscription_property(key)
            }
            _ => None,
        }
    }
}

/// Members of the `resourceGroup()` object.
const RESOURCE_GROUP_KEYS: &[&str] = &[
    "id",
    "name",
    "type",
    "location",
    "managedBy",
    "tags",
    "properties",
];
/// Members of the `subscription()` object.
const SUBSCRIPTION_KEYS: &[&str] = &["id", "subscriptionId", "tenantId", "displayName"];

/// The id segment after `key` (compared ignoring case): `subscriptions` → the subscription id.
fn id_segment<'i>(id: &'i str, key: &str) -> Option<&'i str> {
    let mut parts = id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts.next();
        }
    }
    None
}

/// `path` minus `prefix` when `prefix` is a leading part of it (keys compared case-insensitively).
fn strip_prefix<'s>(path: &'s [Segment], prefix: &[Segment]) -> Option<&'s [Segment]> {
    if prefix.is_empty() || prefix.len() > path.len() {
        return None;
    }
    for (a, b) in path.iter().zip(prefix) {
        let same = match (a, b) {
            (Segment::Key(x), Segment::Key(y)) => x.eq_ignore_ascii_case(y),
            (x, y) => x == y,
        };
        if !same {
            return None;
        }
    }
    path.get(prefix.len()..)
}

fn describe_operand(o: &Operand) -> String {
    match o {
        Operand::Const(v) => v.to_string(),
        Operand::Expr(_) => "value expression".to_string(),
    }
}

/// The [`Scope`] template expressions see while a condition is evaluated.
struct ExprScope<'e, 'a, 'p> {
    ev: &'e Evaluator<'a, 'p>,
    frames: &'e [Frame<'a>],
}

impl Scope for ExprScope<'_, '_, '_> {
    fn parameter(&self, name: &str) -> Result<Value, EvalError> {
        self.ev
            .env
            .parameters
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| EvalError(format!("parameter `{name}` has no value")))
    }

    fn field(&self, path: &str) -> Result<Value, EvalError> {
        let resolved;
        let field = match self.ev.env.fields.get(path) {
            Some(f) => f,
            None => {
                resolved = FieldRef::resolve(path, self.ev.env.aliases).map_err(EvalError)?;
                &resolved
            }
        };
        let primary = self.ev.primary();
        let selected = match &primary {
            Some(p) => p.select(field, &[]),
            None => self.ev.select(field, self.frames),
        };
        Ok(match selected {
            Selected::Many(vs) => Value::Array(
                vs.into_iter()
                    .map(|v| v.map_or(Value::Null, Cow::into_owned))
                    .collect(),
            ),
            // The counted member itself, inside `where`: still an array alias, so a one-member
            // array (author-policies-for-arrays, "The field() function inside where conditions").
            Selected::One(v) if field.is_collection() => {
                Value::Array(vec![v.map_or(Value::Null, Cow::into_owned)])
            }
            // DECISION: the docs' table gives `""` for `field()` of an absent property.
            Selected::One(v) => v.map_or_else(|| Value::String(String::new()), Cow::into_owned),
        })
    }

    fn current(&self, name: Option<&str>) -> Result<Value, EvalError> {
        let member_value =
            |m: &Option<Cow<'_, Value>>| m.as_deref().cloned().unwrap_or(Value::Null);
        let Some(name) = name else {
            return match self.frames.last() {
                Some(Frame::Field { member, .. }) => Ok(member_value(member)),
                Some(Frame::Value { member, .. }) => Ok(member.clone()),
                None => Err(EvalError(
                    "`current()` is only allowed inside `count.where`".into(),
                )),
            };
        };
        for frame in self.frames.iter().rev() {
            match frame {
                Frame::Value { name: n, member } if n.eq_ignore_ascii_case(name) => {
                    return Ok(member.clone())
                }
                Frame::Field {
                    text,
                    prefix,
                    member,
                } => {
                    if text.eq_ignore_ascii_case(name) {
                        return Ok(member_value(member));
                    }
                    // `current('<array alias>[*].property')`: a path under the counted member.
                    if let Ok(f) = FieldRef::resolve(name, self.ev.env.aliases) {
                        let path = f.path_for(self.ev.resource_type);
                        if let Some(rest) = strip_prefix(&path.segments, &prefix.segments) {
                            let base = member.as_deref().unwrap_or(&Value::Null);
                            return Ok(match self.ev.select_from(base, rest, false) {
                                Selected::Many(vs) => Value::Array(
                                    vs.into_iter()
                                        .map(|v| v.map_or(Value::Null, Cow::into_owned))
                                        .collect(),
                                ),
                                Selected::One(v) => v.map_or(Value::Null, Cow::into_owned),
                            });
                        }
                    }
                }
                Frame::Value { .. } => {}
            }
        }
        Err(EvalError(format!(
            "`current('{name}')` names no enclosing count"
        )))
    }

    fn resource_group(&self) -> Result<Value, EvalError> {
        Ok(match self.ev.primary() {
            Some(p) => p.resource_group(),
            None => self.ev.resource_group(),
        })
    }

    fn subscription(&self) -> Result<Value, EvalError> {
        Ok(match self.ev.primary() {
            Some(p) => p.subscription(),
            None => self.ev.subscription(),
        })
    }

    fn context_property(&self, function: &str, key: &str) -> Option<Result<Value, EvalError>> {
        match self.ev.primary() {
            Some(p) => p.context_property(function, key),
            None => self.ev.context_property(function, key),
        }
        .map(Ok)
    }

    fn request_context(&self) -> Result<Value, EvalError> {
        Ok(self
            .ev
            .env
            .options
            .request_context
            .clone()
            .unwrap_or_else(|| json!({"apiVersion": DEFAULT_API_VERSION, "identity": {}})))
    }

    fn policy(&self) -> Result<Value, EvalError> {
        if let Some(p) = &self.ev.env.options.policy {
            return Ok(p.clone());
        }
        let mut m = Map::new();
        m.insert("assignmentId".into(), Value::String(String::new()));
        m.insert(
            "definitionId".into(),
            Value::String(format!(
                "/providers/Microsoft.Authorization/policyDefinitions/{}",
                self.ev.env.definition_name
            )),
        );
        m.insert("setDefinitionId".into(), Value::String(String::new()));
        m.insert("definitionReferenceId".into(), Value::String(String::new()));
        Ok(Value::Object(m))
    }

    fn now(&self) -> DateTime<Utc> {
        self.ev.env.options.now
    }
}

impl std::fmt::Display for Reason {
    /// `field `X` (path `p`): actual `v`; condition equals `e` is false (inverted by `not`)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        ReasonText {
            subject: &self.subject,
            path: self.path.as_deref(),
            actual: self.actual.as_ref(),
            operator: self.operator,
            expected: &self.expected,
            result: self.result,
            negated: self.negated,
        }
        .render(&mut out);
        f.write_str(&out)
    }
}

/// The parts of a reason, borrowed, and how they read.
struct ReasonText<'r> {
    subject: &'r str,
    path: Option<&'r str>,
    actual: Option<&'r Value>,
    operator: &'static str,
    expected: &'r Value,
    result: bool,
    negated: bool,
}

impl ReasonText<'_> {
    /// Append the text to `out` (plain pushes: this runs once per non-compliant row).
    fn render(&self, out: &mut String) {
        use crate::compare::brief_into;
        if self.subject.starts_with("count") || self.subject.starts_with('"') {
            out.push_str(self.subject);
        } else {
            out.push_str(if self.path.is_some() {
                "field `"
            } else {
                "value "
            });
            out.push_str(self.subject);
            if self.path.is_some() {
                out.push('`');
            }
        }
        if let Some(p) = self.path {
            if !p.eq_ignore_ascii_case(self.subject) {
                out.push_str(" (path `");
                out.push_str(p);
                out.push_str("`)");
            }
        }
        match self.actual {
            Some(v) => {
                out.push_str(": actual `");
                brief_into(out, v);
                out.push('`');
            }
            None => out.push_str(": actual absent"),
        }
        out.push_str("; condition ");
        out.push_str(self.operator);
        out.push_str(" `");
        brief_into(out, self.expected);
        out.push_str("` is ");
        out.push_str(if self.result { "true" } else { "false" });
        if self.negated {
            out.push_str(" (inverted by `not`)");
        }
    }
}
