//! The `:` command line: `:shift`, `:canary`, `:fault`, `:breaker`, `:timeout`, `:reset`,
//! each for the selected service or one named (`:shift reviews`, `:fault shop/cart`), and
//! `:undo`.

use super::edit::{open_form, TextKey};
use super::{FormKind, RuleNotice};
use crate::app::state::State;
use crate::app::update::Outcome;
use crate::mesh::rules::model::Target;

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open(FormKind, Option<Target>),
    Undo,
}

/// Reads a command line (without its `:`); the selected service's namespace is where a
/// service named without one is looked for.
pub fn parse(line: &str, namespace: Option<&str>) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let Some(verb) = words.next() else {
        return Err("type a command, e.g. :shift".into());
    };
    let argument = words.next();
    if words.next().is_some() {
        return Err(format!(":{verb} takes one service at most"));
    }
    if verb == "undo" {
        return match argument {
            None => Ok(Command::Undo),
            Some(_) => Err(":undo takes nothing after it".into()),
        };
    }
    let Some(kind) = FormKind::from_command(verb) else {
        let known: Vec<String> = FormKind::ALL
            .iter()
            .map(|k| format!(":{}", k.command()))
            .collect();
        return Err(format!(
            "unknown command :{verb}; try {}, :undo",
            known.join(", ")
        ));
    };
    let target = match argument {
        None => None,
        Some(name) => Some(target_named(name, namespace)?),
    };
    Ok(Command::Open(kind, target))
}

/// `reviews`, `bookinfo/reviews` or `reviews.bookinfo`.
pub fn target_named(name: &str, namespace: Option<&str>) -> Result<Target, String> {
    let (namespace, service) = match (name.split_once('/'), name.split_once('.')) {
        (Some((namespace, service)), _) => (Some(namespace), service),
        (None, Some((service, namespace))) => (Some(namespace), service),
        (None, None) => (namespace, name),
    };
    match namespace {
        Some(namespace) if !namespace.is_empty() && !service.is_empty() => Ok(Target {
            namespace: namespace.to_owned(),
            service: service.to_owned(),
        }),
        _ => Err(format!(
            "which namespace is {name} in? write it as namespace/{name}"
        )),
    }
}

pub fn on_command_key(state: &mut State, key: TextKey) -> Outcome {
    let Some(line) = state.rules.command.as_mut() else {
        return Outcome::default();
    };
    match key {
        TextKey::Char(c) if !c.is_control() => line.push(c),
        TextKey::Char(_) => {}
        TextKey::Backspace => {
            if line.pop().is_none() {
                // Backspace on an empty line leaves it, as in vim.
                state.rules.command = None;
            }
        }
        TextKey::Esc => state.rules.command = None,
        TextKey::Enter => {
            let line = std::mem::take(line);
            state.rules.command = None;
            let namespace = super::edit::selected_target(state)
                .ok()
                .map(|t| t.namespace);
            return match parse(&line, namespace.as_deref()) {
                Ok(Command::Open(kind, target)) => open_form(state, kind, target),
                Ok(Command::Undo) => super::undo_last(state),
                Err(message) => {
                    state.rules.notice = Some(RuleNotice::error(message));
                    Outcome::redraw()
                }
            };
        }
    }
    Outcome::redraw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(namespace: &str, service: &str) -> Option<Target> {
        Some(Target {
            namespace: namespace.into(),
            service: service.into(),
        })
    }

    #[test]
    fn command_lines_name_a_form_and_maybe_a_service() {
        let cases = [
            ("shift", Ok(Command::Open(FormKind::Shift, None))),
            (
                "canary reviews",
                Ok(Command::Open(
                    FormKind::Canary,
                    target("bookinfo", "reviews"),
                )),
            ),
            (
                "fault shop/cart",
                Ok(Command::Open(FormKind::Fault, target("shop", "cart"))),
            ),
            (
                " timeouts  ratings.bookinfo ",
                Ok(Command::Open(
                    FormKind::Timeouts,
                    target("bookinfo", "ratings"),
                )),
            ),
            ("undo", Ok(Command::Undo)),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line, Some("bookinfo")), want, "{line}");
        }
    }

    #[test]
    fn a_bad_command_line_says_what_would_work() {
        let unknown = parse("shfit", None).unwrap_err();
        assert!(
            unknown.contains(":shfit") && unknown.contains(":shift, :canary"),
            "{unknown}"
        );
        assert!(parse("reset reviews", None)
            .unwrap_err()
            .contains("namespace/reviews"));
        assert!(parse("breaker a b", None).is_err());
        assert!(parse("", None).is_err());
    }
}
