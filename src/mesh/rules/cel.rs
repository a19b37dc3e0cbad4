//! The part of CEL that Istio's CRDs use in `x-kubernetes-validations`, evaluated offline
//! so that the demo and `--dry-run` refuse what the API server would refuse.
//!
//! Supported: literals, `self` and field selection, `has()`, `!`, `&&`, `||`, comparisons,
//! `+`/`-`, the ternary, `size()`, `contains()`, `startsWith()`, `endsWith()`, `all()` and
//! `exists()` over lists and maps, and `duration()`. Anything else is
//! [`CelError::Unsupported`]: the caller says the rule is left to the server, never that it
//! passed.

use std::cmp::Ordering;

use serde_json::Value as Json;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CelError {
    #[error("CEL rule {rule:?} uses what meshtui does not evaluate: {what}")]
    Unsupported { rule: String, what: String },
    /// The rule is well formed but the data makes it fail to evaluate, e.g. a duration
    /// that does not parse; the API server refuses the object then too.
    #[error("{0}")]
    Evaluation(String),
}

/// Evaluates `rule` with `self` bound to `value`.
pub fn holds(rule: &str, value: &Json) -> Result<bool, CelError> {
    let unsupported = |what: String| CelError::Unsupported {
        rule: rule.to_owned(),
        what,
    };
    let tokens = tokenize(rule).map_err(unsupported)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.expression().map_err(unsupported)?;
    if parser.at != parser.tokens.len() {
        return Err(unsupported(format!(
            "text after the end at token {}",
            parser.at
        )));
    }
    let mut scope = vec![("self".to_owned(), Value::from_json(value))];
    match eval(&expr, &mut scope) {
        Ok(Value::Bool(result)) => Ok(result),
        Ok(other) => Err(CelError::Evaluation(format!(
            "the rule gives {} instead of true or false",
            other.type_name()
        ))),
        Err(Failure::Unsupported(what)) => Err(unsupported(what)),
        Err(Failure::Data(message)) => Err(CelError::Evaluation(message)),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Int(i64),
    Str(String),
    Op(&'static str),
}

const OPERATORS: [&str; 18] = [
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "?", ":", "(", ")", ".", ",", "+", "-", "[",
];

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let number = digits.parse().map_err(|_| format!("number {digits}"))?;
            tokens.push(Token::Int(number));
        } else if c == '"' || c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("an unterminated string".into()),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        let escaped = chars.get(i + 1).ok_or("an unterminated string")?;
                        text.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            other => *other,
                        });
                        i += 2;
                        continue;
                    }
                    Some(other) => text.push(*other),
                }
                i += 1;
            }
            i += 1;
            tokens.push(Token::Str(text));
        } else if c == ']' {
            tokens.push(Token::Op("]"));
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| format!("the character {c:?}"))?;
            tokens.push(Token::Op(op));
            i += op.len();
        }
    }
    Ok(tokens)
}

#[derive(Debug, Clone)]
enum Expr {
    Literal(Value),
    Name(String),
    Select(Box<Expr>, String),
    Has(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Method(Box<Expr>, String, Vec<Expr>),
    /// `target.all(var, body)` and `target.exists(var, body)`.
    Comprehension {
        all: bool,
        target: Box<Expr>,
        var: String,
        body: Box<Expr>,
    },
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Op(o)) if *o == op)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let found = self.peek_op(op);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect_op(&mut self, op: &str) -> Result<(), String> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(format!("expected {op:?} at token {}", self.at))
        }
    }

    fn expression(&mut self) -> Result<Expr, String> {
        let condition = self.binary(0)?;
        if self.eat_op("?") {
            let then = self.expression()?;
            self.expect_op(":")?;
            let otherwise = self.expression()?;
            return Ok(Expr::Ternary(
                Box::new(condition),
                Box::new(then),
                Box::new(otherwise),
            ));
        }
        Ok(condition)
    }

    /// Precedence climbing over CEL's binary operators, loosest first.
    fn binary(&mut self, level: usize) -> Result<Expr, String> {
        const LEVELS: [&[&str]; 4] = [
            &["||"],
            &["&&"],
            &["==", "!=", "<", "<=", ">", ">="],
            &["+", "-"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(op) = LEVELS[level].iter().find(|op| self.peek_op(op)) {
            self.at += 1;
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat_op("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat_op("-") {
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut expr = self.primary()?;
        loop {
            if self.eat_op(".") {
                let name = self.ident()?;
                if self.eat_op("(") {
                    if name == "all" || name == "exists" {
                        let var = self.ident()?;
                        self.expect_op(",")?;
                        let body = self.expression()?;
                        self.expect_op(")")?;
                        expr = Expr::Comprehension {
                            all: name == "all",
                            target: Box::new(expr),
                            var,
                            body: Box::new(body),
                        };
                    } else {
                        let args = self.arguments()?;
                        expr = Expr::Method(Box::new(expr), name, args);
                    }
                } else {
                    expr = Expr::Select(Box::new(expr), name);
                }
            } else if self.eat_op("[") {
                let index = self.expression()?;
                self.expect_op("]")?;
                expr = Expr::Index(Box::new(expr), Box::new(index));
            } else {
                return Ok(expr);
            }
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        match self.tokens.get(self.at) {
            Some(Token::Ident(name)) => {
                self.at += 1;
                Ok(name.clone())
            }
            _ => Err(format!("expected a name at token {}", self.at)),
        }
    }

    /// After `(`: comma-separated expressions up to `)`.
    fn arguments(&mut self) -> Result<Vec<Expr>, String> {
        let mut args = Vec::new();
        if self.eat_op(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expression()?);
            if self.eat_op(")") {
                return Ok(args);
            }
            self.expect_op(",")?;
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or("an expression that ends too soon")?;
        self.at += 1;
        match token {
            Token::Int(n) => Ok(Expr::Literal(Value::Int(n))),
            Token::Str(s) => Ok(Expr::Literal(Value::Str(s))),
            Token::Op("(") => {
                let inner = self.expression()?;
                self.expect_op(")")?;
                Ok(inner)
            }
            Token::Ident(name) => match name.as_str() {
                "true" => Ok(Expr::Literal(Value::Bool(true))),
                "false" => Ok(Expr::Literal(Value::Bool(false))),
                "null" => Ok(Expr::Literal(Value::Null)),
                "has" if self.eat_op("(") => {
                    let selection = self.expression()?;
                    self.expect_op(")")?;
                    match selection {
                        Expr::Select(target, field) => Ok(Expr::Has(target, field)),
                        _ => Err("has() of something that is not a field".into()),
                    }
                }
                _ if self.eat_op("(") => Ok(Expr::Call(name, self.arguments()?)),
                _ => Ok(Expr::Name(name)),
            },
            Token::Op(op) => Err(format!("{op:?} where a value was expected")),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
    Duration(i128),
}

impl Value {
    fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => Value::Str(s.clone()),
            Json::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            Json::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Double(_) => "double",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Duration(_) => "duration",
        }
    }
}

enum Failure {
    Unsupported(String),
    Data(String),
}

type Eval = Result<Value, Failure>;

fn eval(expr: &Expr, scope: &mut Vec<(String, Value)>) -> Eval {
    match expr {
        Expr::Literal(value) => Ok(value.clone()),
        Expr::Name(name) => scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Failure::Unsupported(format!("the name {name:?}"))),
        Expr::Select(target, field) => match eval(target, scope)? {
            Value::Map(entries) => entries
                .into_iter()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v)
                .ok_or_else(|| Failure::Data(format!("no such key: {field}"))),
            other => Err(Failure::Data(format!(
                "field {field:?} of a {}",
                other.type_name()
            ))),
        },
        Expr::Has(target, field) => match eval(target, scope)? {
            Value::Map(entries) => Ok(Value::Bool(entries.iter().any(|(k, _)| k == field))),
            other => Err(Failure::Data(format!("has() on a {}", other.type_name()))),
        },
        Expr::Index(target, index) => match (eval(target, scope)?, eval(index, scope)?) {
            (Value::List(items), Value::Int(i)) => usize::try_from(i)
                .ok()
                .and_then(|i| items.into_iter().nth(i))
                .ok_or_else(|| Failure::Data(format!("index {i} out of range"))),
            (Value::Map(entries), Value::Str(key)) => entries
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v)
                .ok_or_else(|| Failure::Data(format!("no such key: {key}"))),
            (t, i) => Err(Failure::Data(format!(
                "a {} indexed with a {}",
                t.type_name(),
                i.type_name()
            ))),
        },
        Expr::Not(inner) => match eval(inner, scope)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            other => Err(Failure::Data(format!("! of a {}", other.type_name()))),
        },
        Expr::Negate(inner) => match eval(inner, scope)? {
            Value::Int(i) => Ok(Value::Int(-i)),
            Value::Double(d) => Ok(Value::Double(-d)),
            other => Err(Failure::Data(format!("- of a {}", other.type_name()))),
        },
        Expr::Ternary(condition, then, otherwise) => match eval(condition, scope)? {
            Value::Bool(true) => eval(then, scope),
            Value::Bool(false) => eval(otherwise, scope),
            other => Err(Failure::Data(format!(
                "a {} as a condition",
                other.type_name()
            ))),
        },
        Expr::Binary(op, left, right) => binary(op, left, right, scope),
        Expr::Call(name, args) => call(name, args, scope),
        Expr::Method(target, name, args) => method(target, name, args, scope),
        Expr::Comprehension {
            all,
            target,
            var,
            body,
        } => {
            let items = match eval(target, scope)? {
                Value::List(items) => items,
                Value::Map(entries) => entries.into_iter().map(|(k, _)| Value::Str(k)).collect(),
                other => {
                    return Err(Failure::Data(format!(
                        "all()/exists() over a {}",
                        other.type_name()
                    )))
                }
            };
            for item in items {
                scope.push((var.clone(), item));
                let result = eval(body, scope);
                scope.pop();
                match result? {
                    Value::Bool(b) if b != *all => return Ok(Value::Bool(b)),
                    Value::Bool(_) => {}
                    other => {
                        return Err(Failure::Data(format!(
                            "a {} where true or false was expected",
                            other.type_name()
                        )))
                    }
                }
            }
            Ok(Value::Bool(*all))
        }
    }
}

fn binary(op: &str, left: &Expr, right: &Expr, scope: &mut Vec<(String, Value)>) -> Eval {
    // `&&` and `||` look at the right side only when they must, as CEL does for errors.
    if op == "&&" || op == "||" {
        let want = op == "||";
        return match eval(left, scope)? {
            Value::Bool(b) if b == want => Ok(Value::Bool(want)),
            Value::Bool(_) => match eval(right, scope)? {
                Value::Bool(b) => Ok(Value::Bool(b)),
                other => Err(Failure::Data(format!("{op} of a {}", other.type_name()))),
            },
            other => Err(Failure::Data(format!("{op} of a {}", other.type_name()))),
        };
    }
    let (a, b) = (eval(left, scope)?, eval(right, scope)?);
    let mismatch = |a: &Value, b: &Value| {
        Failure::Data(format!(
            "{op} between a {} and a {}",
            a.type_name(),
            b.type_name()
        ))
    };
    match op {
        "+" => match (a, b) {
            (Value::Int(x), Value::Int(y)) => x
                .checked_add(y)
                .map(Value::Int)
                .ok_or_else(|| Failure::Data("integer overflow".into())),
            (Value::Double(x), Value::Double(y)) => Ok(Value::Double(x + y)),
            (Value::Str(x), Value::Str(y)) => Ok(Value::Str(x + &y)),
            (Value::Duration(x), Value::Duration(y)) => Ok(Value::Duration(x + y)),
            (a, b) => Err(mismatch(&a, &b)),
        },
        "-" => match (a, b) {
            (Value::Int(x), Value::Int(y)) => x
                .checked_sub(y)
                .map(Value::Int)
                .ok_or_else(|| Failure::Data("integer overflow".into())),
            (Value::Double(x), Value::Double(y)) => Ok(Value::Double(x - y)),
            (Value::Duration(x), Value::Duration(y)) => Ok(Value::Duration(x - y)),
            (a, b) => Err(mismatch(&a, &b)),
        },
        "==" => Ok(Value::Bool(a == b)),
        "!=" => Ok(Value::Bool(a != b)),
        _ => {
            let order = match (&a, &b) {
                (Value::Int(x), Value::Int(y)) => x.partial_cmp(y),
                (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
                (Value::Str(x), Value::Str(y)) => x.partial_cmp(y),
                (Value::Duration(x), Value::Duration(y)) => x.partial_cmp(y),
                _ => None,
            }
            .ok_or_else(|| mismatch(&a, &b))?;
            Ok(Value::Bool(match op {
                "<" => order == Ordering::Less,
                "<=" => order != Ordering::Greater,
                ">" => order == Ordering::Greater,
                _ => order != Ordering::Less,
            }))
        }
    }
}

fn call(name: &str, args: &[Expr], scope: &mut Vec<(String, Value)>) -> Eval {
    let values = args
        .iter()
        .map(|arg| eval(arg, scope))
        .collect::<Result<Vec<_>, _>>()?;
    match (name, values.as_slice()) {
        ("duration", [Value::Str(text)]) => parse_duration(text)
            .map(Value::Duration)
            .ok_or_else(|| Failure::Data(format!("{text:?} is not a duration"))),
        ("size", [value]) => size(value),
        _ => Err(Failure::Unsupported(format!("the function {name}()"))),
    }
}

fn method(target: &Expr, name: &str, args: &[Expr], scope: &mut Vec<(String, Value)>) -> Eval {
    let target = eval(target, scope)?;
    let values = args
        .iter()
        .map(|arg| eval(arg, scope))
        .collect::<Result<Vec<_>, _>>()?;
    match (name, &target, values.as_slice()) {
        ("size", value, []) => size(value),
        ("contains", Value::Str(s), [Value::Str(part)]) => Ok(Value::Bool(s.contains(part))),
        ("startsWith", Value::Str(s), [Value::Str(part)]) => {
            Ok(Value::Bool(s.starts_with(part.as_str())))
        }
        ("endsWith", Value::Str(s), [Value::Str(part)]) => {
            Ok(Value::Bool(s.ends_with(part.as_str())))
        }
        _ => Err(Failure::Unsupported(format!(
            "the method {name}() on a {}",
            target.type_name()
        ))),
    }
}

fn size(value: &Value) -> Eval {
    let n = match value {
        Value::Str(s) => s.chars().count(),
        Value::List(items) => items.len(),
        Value::Map(entries) => entries.len(),
        other => return Err(Failure::Data(format!("size() of a {}", other.type_name()))),
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// A Go duration (`1.5s`, `200ms`, `1h30m`, `-2us`) in nanoseconds, as CEL's
/// `duration()` reads it.
pub fn parse_duration(text: &str) -> Option<i128> {
    const UNITS: [(&str, f64); 8] = [
        ("ns", 1.0),
        ("us", 1e3),
        ("µs", 1e3),
        ("μs", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
        ("m", 60e9),
        ("h", 3600e9),
    ];
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // Longest unit first, so `ms` is not read as `m` followed by `s`.
        let (unit, scale) = UNITS
            .iter()
            .filter(|(unit, _)| rest.starts_with(unit))
            .max_by_key(|(unit, _)| unit.len())?;
        total += number * scale;
        rest = &rest[unit.len()..];
    }
    let nanos = total.round() as i128;
    Some(if negative { -nanos } else { nanos })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_rules_of_istios_crds_evaluate() {
        let cases: [(&str, Json, Result<bool, ()>); 14] = [
            ("duration(self) >= duration('1ms')", json!("1.5s"), Ok(true)),
            ("duration(self) >= duration('1ms')", json!("200us"), Ok(false)),
            ("duration(self) >= duration('1ms')", json!("1h2m3s"), Ok(true)),
            ("duration(self) >= duration('1ms')", json!("fast"), Err(())),
            ("self.all(key, !key.contains(\"*\"))", json!({"app": "x"}), Ok(true)),
            ("self.all(key, !key.contains(\"*\"))", json!({"a*": "x"}), Ok(false)),
            ("self.all(key, key.size() != 0)", json!({"": "x"}), Ok(false)),
            ("!self.contains(\"*\")", json!("v1"), Ok(true)),
            ("self.size() == 0", json!([]), Ok(true)),
            (
                "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1",
                json!({"selector": {}, "targetRef": {}}),
                Ok(false),
            ),
            (
                "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1",
                json!({"selector": {}}),
                Ok(true),
            ),
            (
                "((has(self.operation) ? self.operation : \"\") == \"UPSERT\") ? (self.value != \"\") : true",
                json!({"operation": "UPSERT", "value": ""}),
                Ok(false),
            ),
            (
                "((has(self.operation) ? self.operation : \"\") == \"REMOVE\") ? !has(self.value) : true",
                json!({"operation": "REMOVE"}),
                Ok(true),
            ),
            ("self.exists(x, x > 2)", json!([1, 3]), Ok(true)),
        ];
        for (rule, value, expected) in cases {
            let got = holds(rule, &value).map_err(|e| {
                assert!(
                    matches!(e, CelError::Evaluation(_)),
                    "{rule} on {value}: {e}"
                );
            });
            assert_eq!(got, expected, "{rule} on {value}");
        }
    }

    #[test]
    fn what_is_not_evaluated_is_said_so_never_taken_as_passing() {
        for rule in [
            "self.matches('^a')",
            "quantity(self) > 0",
            "self.map(x, x)",
            "self == oldSelf",
            "self.x ~ 1",
        ] {
            let error = holds(rule, &json!({"x": 1})).unwrap_err();
            assert!(
                matches!(error, CelError::Unsupported { .. }),
                "{rule}: {error}"
            );
        }
    }

    #[test]
    fn go_durations_read_as_the_api_server_reads_them() {
        let cases = [
            ("1.5s", Some(1_500_000_000)),
            ("200ms", Some(200_000_000)),
            ("1h30m", Some(5_400_000_000_000)),
            ("300us", Some(300_000)),
            ("0", Some(0)),
            ("-2s", Some(-2_000_000_000)),
            ("", None),
            ("5", None),
            ("1d", None),
            ("s", None),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse_duration(text), nanos, "{text}");
        }
    }
}
