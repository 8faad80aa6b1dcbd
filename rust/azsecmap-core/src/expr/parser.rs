//! Parser for ARM template expressions: `[name(arg, ...).prop['key'][0]]`, string literals in single quotes
//! with `''` as the escaped quote, integer (and decimal) literals, and the `[[` escape for literal text.

use serde_json::{Number, Value};

use super::{Expr, ExprError, Template, MAX_CALL_DEPTH, MAX_SOURCE_LEN, MAX_TREE_DEPTH};

/// Parse a policy string into a [`Template`].
pub(crate) fn parse_template(s: &str) -> Result<Template, ExprError> {
    // Plain text of any length is a literal; only expressions are bounded.
    if !(s.starts_with('[') && s.ends_with(']')) || s.len() < 2 {
        return Ok(Template::Literal(s.to_string()));
    }
    if s.len() > MAX_SOURCE_LEN {
        return Err(ExprError {
            message: format!(
                "expression string of {} bytes is longer than the limit of {MAX_SOURCE_LEN} bytes",
                s.len()
            ),
            offset: 0,
        });
    }
    if !(s.starts_with('[') && s.ends_with(']')) || s.len() < 2 {
        return Ok(Template::Literal(s.to_string()));
    }
    // DECISION: the `[[` escape applies only to strings that would otherwise be expressions (start with `[`
    // and end with `]`); one leading bracket is removed. `[[x` without a closing bracket stays unchanged.
    if let Some(rest) = s.strip_prefix("[[") {
        return Ok(Template::Literal(format!("[{rest}")));
    }
    let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or_default();
    let mut p = Parser {
        src: inner,
        pos: 0,
        base: 1,
    };
    p.skip_ws();
    if p.at_end() {
        return Err(p.err("empty expression `[]`"));
    }
    let e = p.parse_expr(0, 0)?;
    p.skip_ws();
    if !p.at_end() {
        let rest: String = p.rest().chars().take(20).collect();
        return Err(p.err(&format!("unexpected text `{rest}` after the expression")));
    }
    Ok(Template::Expr(e))
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    base: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, message: &str) -> ExprError {
        ExprError {
            message: message.to_string(),
            offset: self.pos.saturating_add(self.base),
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos = self.pos.saturating_add(c.len_utf8());
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn expect(&mut self, want: char) -> Result<(), ExprError> {
        self.skip_ws();
        match self.peek() {
            Some(c) if c == want => {
                self.bump();
                Ok(())
            }
            Some(c) => Err(self.err(&format!("expected `{want}` but found `{c}`"))),
            None => Err(self.err(&format!("expected `{want}` but the expression ended"))),
        }
    }

    /// expr := primary ( '.' ident | '[' expr ']' )*
    fn parse_expr(&mut self, calls: usize, depth: usize) -> Result<Expr, ExprError> {
        if depth > MAX_TREE_DEPTH {
            return Err(self.err(&format!(
                "expression is nested deeper than {MAX_TREE_DEPTH} levels"
            )));
        }
        let mut e = self.parse_primary(calls, depth)?;
        let mut d = depth;
        loop {
            self.skip_ws();
            match self.peek() {
                Some('.') => {
                    self.bump();
                    self.skip_ws();
                    let name = self.ident();
                    if name.is_empty() {
                        return Err(self.err("expected a property name after `.`"));
                    }
                    e = Expr::Member {
                        target: Box::new(e),
                        name,
                    };
                }
                Some('[') => {
                    self.bump();
                    let idx = self.parse_expr(calls, d.saturating_add(1))?;
                    self.expect(']')?;
                    e = Expr::Index {
                        target: Box::new(e),
                        index: Box::new(idx),
                    };
                }
                _ => return Ok(e),
            }
            d = d.saturating_add(1);
            if d > MAX_TREE_DEPTH {
                return Err(self.err(&format!(
                    "expression is nested deeper than {MAX_TREE_DEPTH} levels"
                )));
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            self.bump();
        }
        self.src
            .get(start..self.pos)
            .unwrap_or_default()
            .to_string()
    }

    fn parse_primary(&mut self, calls: usize, depth: usize) -> Result<Expr, ExprError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.err(&format!("expected a value at the end of `{}`", self.src))),
            Some('\'') => self.string_lit(),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' => self.number_lit(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let name_at = self.pos;
                let name = self.ident();
                self.skip_ws();
                if self.peek() != Some('(') {
                    // DECISION: bare `true`, `false` and `null` are accepted as literals, as
                    // ARM's expression evaluator does; other bare names stay errors.
                    match name.to_ascii_lowercase().as_str() {
                        "true" => return Ok(Expr::Literal(Value::Bool(true))),
                        "false" => return Ok(Expr::Literal(Value::Bool(false))),
                        "null" => return Ok(Expr::Literal(Value::Null)),
                        _ => {}
                    }
                    let at = self.pos;
                    self.pos = name_at;
                    let e = self.err(&format!("expected `(` after function name `{name}`"));
                    self.pos = at;
                    return Err(e);
                }
                self.bump();
                let calls = calls.saturating_add(1);
                if calls > MAX_CALL_DEPTH {
                    self.pos = name_at;
                    return Err(self.err(&format!(
                        "function calls are nested deeper than {MAX_CALL_DEPTH} levels at `{name}`"
                    )));
                }
                let mut args = Vec::new();
                self.skip_ws();
                if self.peek() == Some(')') {
                    self.bump();
                } else {
                    loop {
                        args.push(self.parse_expr(calls, depth.saturating_add(1))?);
                        self.skip_ws();
                        match self.bump() {
                            Some(',') => continue,
                            Some(')') => break,
                            Some(c) => {
                                self.pos = self.pos.saturating_sub(c.len_utf8());
                                return Err(self.err(&format!(
                                    "expected `,` or `)` in the arguments of `{name}` but found `{c}`"
                                )));
                            }
                            None => {
                                return Err(self.err(&format!(
                                    "missing `)` to close the arguments of `{name}`"
                                )))
                            }
                        }
                    }
                }
                Ok(Expr::Call {
                    name: name.to_lowercase(),
                    args,
                })
            }
            Some(c) => Err(self.err(&format!("unexpected character `{c}`"))),
        }
    }

    fn string_lit(&mut self) -> Result<Expr, ExprError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                Some('\'') => {
                    if self.peek() == Some('\'') {
                        self.bump();
                        out.push('\'');
                    } else {
                        return Ok(Expr::Literal(Value::String(out)));
                    }
                }
                Some(c) => out.push(c),
                None => {
                    self.pos = start;
                    return Err(self.err("unterminated string literal"));
                }
            }
        }
    }

    fn number_lit(&mut self) -> Result<Expr, ExprError> {
        let start = self.pos;
        if matches!(self.peek(), Some('-' | '+')) {
            self.bump();
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.bump();
        }
        let text = self.src.get(start..self.pos).unwrap_or_default();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Expr::Literal(Value::Number(i.into())));
        }
        // DECISION: ARM's grammar documents integer literals; decimal literals are accepted as floats rather than
        // rejected, since nothing in the built-ins depends on their rejection.
        if text.contains('.') {
            if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
                return Ok(Expr::Literal(Value::Number(n)));
            }
        }
        self.pos = start;
        Err(self.err(&format!("invalid number `{text}`")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]
    use super::*;
    use serde_json::json;

    fn ex(s: &str) -> Expr {
        match parse_template(s).unwrap() {
            Template::Expr(e) => e,
            Template::Literal(l) => panic!("literal {l}"),
        }
    }

    fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Call {
            name: name.into(),
            args,
        }
    }

    #[test]
    fn literals_and_escape() {
        assert_eq!(
            parse_template("abc").unwrap(),
            Template::Literal("abc".into())
        );
        assert_eq!(
            parse_template("[[abc]").unwrap(),
            Template::Literal("[abc]".into())
        );
        assert_eq!(
            parse_template("[abc").unwrap(),
            Template::Literal("[abc".into())
        );
        assert_eq!(parse_template("").unwrap(), Template::Literal("".into()));
        assert_eq!(
            parse_template("[WindowsTimeZone]WindowsTimeZone1;TimeZone").unwrap(),
            Template::Literal("[WindowsTimeZone]WindowsTimeZone1;TimeZone".into())
        );
    }

    #[test]
    fn calls_members_indexes() {
        assert_eq!(
            ex("[concat(parameters('prefix'), field('name'))]"),
            call(
                "concat",
                vec![
                    call("parameters", vec![Expr::Literal(json!("prefix"))]),
                    call("field", vec![Expr::Literal(json!("name"))]),
                ]
            )
        );
        assert_eq!(
            ex("[ subscription().Id ]"),
            Expr::Member {
                target: Box::new(call("subscription", vec![])),
                name: "Id".into()
            }
        );
        assert_eq!(
            ex("[split(field('id'), '/')[4]]"),
            Expr::Index {
                target: Box::new(call(
                    "split",
                    vec![
                        call("field", vec![Expr::Literal(json!("id"))]),
                        Expr::Literal(json!("/"))
                    ]
                )),
                index: Box::new(Expr::Literal(json!(4)))
            }
        );
        assert_eq!(
            ex("[if (true(), 1, -1)]"),
            call(
                "if",
                vec![
                    call("true", vec![]),
                    Expr::Literal(json!(1)),
                    Expr::Literal(json!(-1))
                ]
            )
        );
        assert_eq!(
            ex("[toLower('It''s')]"),
            call("tolower", vec![Expr::Literal(json!("It's"))])
        );
        assert_eq!(
            ex("[f()['k'].x]"),
            Expr::Member {
                target: Box::new(Expr::Index {
                    target: Box::new(call("f", vec![])),
                    index: Box::new(Expr::Literal(json!("k")))
                }),
                name: "x".into()
            }
        );
    }

    #[test]
    fn errors_have_offsets() {
        let e = parse_template("[concat('a', ]").unwrap_err();
        assert!(e.message.contains('`'), "{}", e.message);
        assert_eq!(e.offset, 13);
        assert!(parse_template("[concat('a']").is_err());
        assert!(parse_template("['abc]").is_err());
        assert!(parse_template("[]").is_err());
        assert!(parse_template("[abc]").is_err());
        assert!(parse_template("[concat('a') 'b']").is_err());
        assert!(parse_template("[f().]").is_err());
    }

    #[test]
    fn depth_and_size_limits() {
        let ok = format!("[{}1{}]", "f(".repeat(64), ")".repeat(64));
        assert!(parse_template(&ok).is_ok());
        let deep = format!("[{}1{}]", "f(".repeat(65), ")".repeat(65));
        let e = parse_template(&deep).unwrap_err();
        assert!(e.message.contains("64"), "{}", e.message);
        let very_deep = format!("[{}1{}]", "f(".repeat(100_000), ")".repeat(100_000));
        assert!(parse_template(&very_deep).is_err());
        let chain = format!("[f(){}]", ".a".repeat(10_000));
        assert!(parse_template(&chain).is_err());
        let idx = format!("[f(){}]", "[0]".repeat(10_000));
        assert!(parse_template(&idx).is_err());
        let big = format!("['{}']", "a".repeat(MAX_SOURCE_LEN));
        assert!(parse_template(&big).is_err());
    }
}
