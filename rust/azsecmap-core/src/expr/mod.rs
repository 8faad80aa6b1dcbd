//! TEMPORARY interface stub; replaced by the real expression engine.
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    Call { name: String, args: Vec<Expr> },
    Member { target: Box<Expr>, name: String },
    Index { target: Box<Expr>, index: Box<Expr> },
}
#[derive(Debug, Clone, PartialEq)]
pub enum Template { Literal(String), Expr(Expr) }
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError { pub message: String, pub offset: usize }
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);
pub trait Scope {
    fn parameter(&self, name: &str) -> Result<Value, EvalError>;
    fn field(&self, path: &str) -> Result<Value, EvalError>;
    fn current(&self, name: Option<&str>) -> Result<Value, EvalError>;
    fn resource_group(&self) -> Result<Value, EvalError>;
    fn subscription(&self) -> Result<Value, EvalError>;
    fn request_context(&self) -> Result<Value, EvalError>;
    fn policy(&self) -> Result<Value, EvalError>;
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}
pub fn parse_template(s: &str) -> Result<Template, ExprError> {
    if let Some(rest) = s.strip_prefix("[[") { return Ok(Template::Literal(format!("[{rest}"))); }
    if s.starts_with('[') && s.ends_with(']') {
        let inner = &s[1..s.len() - 1];
        if let Some(name) = inner.strip_prefix("parameters('").and_then(|r| r.strip_suffix("')")) {
            return Ok(Template::Expr(Expr::Call { name: "parameters".into(), args: vec![Expr::Literal(Value::String(name.into()))] }));
        }
        return Err(ExprError { message: format!("stub cannot parse `{s}`"), offset: 0 });
    }
    Ok(Template::Literal(s.to_string()))
}
pub fn validate(_e: &Expr) -> Result<(), ExprError> { Ok(()) }
pub fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    match expr {
        Expr::Literal(v) => Ok(v.clone()),
        Expr::Call { name, args } if name == "parameters" => match args.first() { Some(Expr::Literal(Value::String(n))) => scope.parameter(n), _ => Err(EvalError("bad".into())) },
        _ => Err(EvalError("stub".into())),
    }
}
pub fn fold(expr: Expr, params: &dyn Fn(&str) -> Option<Value>) -> Expr {
    if let Expr::Call { name, args } = &expr { if name == "parameters" { if let Some(Expr::Literal(Value::String(n))) = args.first() { if let Some(v) = params(n) { return Expr::Literal(v); } } } }
    expr
}
pub fn is_pure(_e: &Expr) -> bool { false }
pub fn known_functions() -> &'static [&'static str] { &["parameters"] }
